"""Every default rule on a table of cases (pure: no database writes)."""

from datetime import date

import pytest

from intake.rules import CaseFacts, decide

TODAY = date(2026, 11, 24)
RECENT = date(2026, 6, 1)
OLD = date(2024, 1, 1)


@pytest.mark.parametrize(
    "facts, queue_slug, rule_priority",
    [
        (dict(red_flags=("fever",), mri_status="upload", mri_taken_on=RECENT, regions=("neck",)), "urgent", 10),
        (dict(red_flags=("cancer",), is_duplicate=True), "urgent", 10),
        (dict(is_duplicate=True, mri_status="upload", mri_taken_on=RECENT, regions=("neck",)), "duplicate", 20),
        (dict(mri_status="upload", mri_taken_on=OLD, regions=("neck",)), "imaging", 30),
        (dict(mri_status="centre_sends", mri_taken_on=date(2025, 10, 1), regions=("neck",)), "imaging", 30),
        (dict(mri_status="upload", mri_taken_on=date(2025, 11, 1), regions=("neck",)), "mri-cervical", 40),
        (
            dict(mri_status="upload", mri_taken_on=RECENT, mri_region="neck", regions=("lower_back",)),
            "mri-cervical",
            40,
        ),
        (dict(mri_status="centre_sends", mri_taken_on=RECENT, regions=("lower_back",)), "mri-thoracolumbar", 50),
        (
            dict(mri_status="upload", mri_taken_on=RECENT, mri_region="lower_back", regions=("neck",)),
            "mri-thoracolumbar",
            50,
        ),
        (
            dict(mri_status="upload", mri_taken_on=RECENT, mri_region="unsure", regions=("hips_legs",)),
            "mri-thoracolumbar",
            50,
        ),
        (dict(mri_status="none", pain_duration="lt_6w", regions=("neck",)), "conservative", 60),
        (dict(mri_status="none", pain_duration="gt_12m", regions=("neck",)), "imaging", 70),
        (dict(mri_status="upload", mri_taken_on=RECENT, regions=()), "general", 80),
        (dict(), "imaging", 70),  # no MRI answer counts as no MRI
    ],
)
def test_default_rules(seeded, facts, queue_slug, rule_priority):
    from intake.models import RoutingRule

    decision = decide(CaseFacts(today=TODAY, **facts), list(RoutingRule.objects.select_related("target_queue")))
    assert decision.queue.slug == queue_slug
    assert decision.rule.priority == rule_priority
    assert decision.reason.startswith(f"Rule {rule_priority} ")


def test_reason_explains_the_match(seeded):
    from intake.models import RoutingRule

    rules = list(RoutingRule.objects.select_related("target_queue"))
    d = decide(CaseFacts(today=TODAY, mri_status="upload", mri_taken_on=OLD, regions=("neck",)), rules)
    assert "MRI is 34 months old (over 12)" in d.reason
    d = decide(CaseFacts(today=TODAY, mri_status="none", pain_duration="lt_6w"), rules)
    assert "no MRI yet" in d.reason and "pain for less than 6 weeks" in d.reason


def test_inactive_rule_is_skipped_and_priority_order_wins(seeded):
    from intake.models import RoutingRule

    RoutingRule.objects.filter(priority=10).update(is_active=False)
    rules = list(RoutingRule.objects.select_related("target_queue"))
    d = decide(CaseFacts(today=TODAY, red_flags=("fever",), mri_status="none", pain_duration="lt_6w"), rules)
    assert d.queue.slug == "conservative"


def test_min_severity_condition(seeded):
    from intake.models import RoutingRule, StaffQueue

    q = StaffQueue.objects.get(slug="general")
    RoutingRule.objects.create(priority=5, name="Severe", target_queue=q, if_min_severity=9)
    rules = list(RoutingRule.objects.select_related("target_queue"))
    assert decide(CaseFacts(today=TODAY, severity=9), rules).rule.priority == 5
    assert decide(CaseFacts(today=TODAY, severity=8), rules).rule.priority == 70


def test_no_rule_matches_without_catch_all(seeded):
    from intake.models import RoutingRule

    RoutingRule.objects.filter(priority__in=[70, 80]).delete()
    rules = list(RoutingRule.objects.select_related("target_queue"))
    assert decide(CaseFacts(today=TODAY, mri_status="none", pain_duration="gt_12m"), rules).queue is None
