"""clinic.untrusted's rule on its own: counted before, cleared after, given up at the second death."""

import pytest

from clinic.untrusted import DEATHS_ALLOWED, run_untrusted


class Row:
    """A counter like IndexAttempts.unfinished, kept in memory."""

    def __init__(self, unfinished=0):
        self.unfinished = unfinished
        self.gave_up = []
        self.worked = 0

    def begin(self):
        earlier, self.unfinished = self.unfinished, self.unfinished + 1
        return earlier

    def end(self):
        self.unfinished = 0

    def give_up(self, *, deaths):
        self.gave_up.append(deaths)

    def work(self):
        self.worked += 1
        return "done"

    def run(self, work=None):
        return run_untrusted(begin=self.begin, end=self.end, give_up=self.give_up, work=work or self.work)


def test_work_runs_and_the_count_is_cleared():
    row = Row()
    assert row.run() == "done"
    assert (row.unfinished, row.worked, row.gave_up) == (0, 1, [])


def test_an_exception_or_a_retry_is_not_a_death():
    row = Row()

    def boom():
        raise RuntimeError("storage down: retry")

    with pytest.raises(RuntimeError):
        row.run(boom)
    assert row.unfinished == 0
    assert row.run() == "done"


def test_one_death_is_tried_again_the_second_is_given_up():
    assert DEATHS_ALLOWED == 2
    row = Row(unfinished=1)  # one process died mid-work
    assert row.run() == "done"
    row = Row(unfinished=2)  # two did
    assert row.run() is None
    assert (row.worked, row.gave_up) == (0, [2])
