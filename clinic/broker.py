"""The embedded broker for `make run`: kombu's filesystem transport, made safe.

kombu's own filesystem transport creates a message file and then writes into
it. A consumer polling the folder can take the file in between, read nothing
and die with ``JSONDecodeError`` ("Unrecoverable error"): the worker stops and
the message is lost (issue 11). This transport changes three things:

* a message is written to a hidden temporary file in the same folder and then
  renamed into place, so a consumer only ever sees whole messages (a rename
  within one folder is atomic on POSIX file systems);
* a consumer claims a message by renaming it into ``processing/`` on the same
  file system (kombu moves it to the system temp folder, which may be another
  disk, where the "move" is a copy);
* a file that still cannot be read or decoded (a disk error, a file written
  by something else) is moved to ``corrupt/`` and logged, and the worker goes
  on with the next message instead of stopping.

No fsync: the broker message is only a wake-up. The database's outbox row (and
each notification's row) is the durable record, and the sweeper re-enqueues
anything still pending after 30 s, so even a message lost with the machine's
power is delivered late, not lost.
"""

import logging
import os
import time
import uuid
from json import JSONDecodeError

from kombu.transport import filesystem
from kombu.transport.virtual import Empty
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

log = logging.getLogger(__name__)

TEMP_PREFIX = ".part-"
STALE_TEMP_SECONDS = 3600


def write_atomically(folder: str, name: str, data: bytes) -> str:
    """Write ``data`` to ``folder/name`` so that the name appears only with all of it."""
    tmp = os.path.join(folder, f"{TEMP_PREFIX}{uuid.uuid4().hex}")
    final = os.path.join(folder, name)
    try:
        with open(tmp, "xb") as fh:
            fh.write(data)
        os.rename(tmp, final)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return final


class Channel(filesystem.Channel):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._side_folders = {}
        for name in ("processing", "corrupt"):
            path = os.path.join(os.path.dirname(os.path.abspath(self.data_folder_in)), name)
            os.makedirs(path, exist_ok=True)
            self._side_folders[name] = path
        self._remove_stale_temp_files()

    def _remove_stale_temp_files(self):
        # A writer killed between create and rename leaves a hidden .part file
        # that no consumer will ever read; tidy those an hour on.
        cutoff = time.time() - STALE_TEMP_SECONDS
        for folder in {self.data_folder_out, self.data_folder_in}:
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                if entry.name.startswith(TEMP_PREFIX):
                    try:
                        if entry.stat().st_mtime < cutoff:
                            os.unlink(entry.path)
                    except OSError:
                        pass

    def get_table(self, exchange):
        # The exchange table is rewritten in place when a queue binds; a reader
        # can catch it empty for an instant. Read again rather than fail.
        for _ in range(20):
            try:
                return super().get_table(exchange)
            except ValueError:
                time.sleep(0.005)
        return super().get_table(exchange)

    def _put(self, queue, payload, **kwargs):
        name = f"{int(round(time.monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        try:
            write_atomically(self.data_folder_out, name, str_to_bytes(dumps(payload)))
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot add a message to {self.data_folder_out!r}: {exc}") from exc

    def _get(self, queue):
        wanted = f"{queue}.msg"
        for filename in sorted(os.listdir(self.data_folder_in)):
            if filename.startswith(TEMP_PREFIX) or filename.partition(".")[2] != wanted:
                continue
            claimed = os.path.join(self._side_folders["processing"], filename)
            try:
                os.rename(os.path.join(self.data_folder_in, filename), claimed)
            except OSError:
                continue  # another consumer took it first
            try:
                with open(claimed, "rb") as fh:
                    payload = loads(bytes_to_str(fh.read()))
            except (OSError, ValueError, JSONDecodeError) as exc:
                self._quarantine(claimed, filename, exc)
                continue
            try:
                os.unlink(claimed)
            except OSError:
                pass
            return payload
        raise Empty()

    def _quarantine(self, path, filename, exc):
        log.error(
            "embedded broker: message file %s could not be read (%s); moved to corrupt/, worker continues",
            filename,
            type(exc).__name__,
        )
        try:
            os.rename(path, os.path.join(self._side_folders["corrupt"], filename))
        except OSError:
            pass

    def _size(self, queue):
        wanted = f"{queue}.msg"
        return sum(
            1
            for f in os.listdir(self.data_folder_in)
            if not f.startswith(TEMP_PREFIX) and f.partition(".")[2] == wanted
        )


class Transport(filesystem.Transport):
    Channel = Channel
