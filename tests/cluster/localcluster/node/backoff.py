"""Per-key exponential back-off with the kubelet's meaning (client-go flowcontrol.Backoff).

Times are plain floats on one clock (the agent passes time.monotonic()); nothing here
reads a clock itself, so it is easy to test.
"""

CRASH_INITIAL = 10.0  # kubelet: container restart back-off starts at 10 s ...
CRASH_MAX = 300.0  # ... and doubles up to 5 minutes
IMAGE_INITIAL = 10.0  # image pull back-off, same shape
IMAGE_MAX = 300.0


class Backoff:
    def __init__(self, initial=CRASH_INITIAL, maximum=CRASH_MAX):
        self.initial = initial
        self.maximum = maximum
        self._entries = {}  # key -> [delay, last_update]

    def _expired(self, event_time, last_update):
        # An entry untouched for twice the maximum is forgotten: the next failure starts over.
        return event_time - last_update > 2 * self.maximum

    def next(self, key, event_time):
        """Record a failure at event_time: start at initial, or double up to maximum."""
        entry = self._entries.get(key)
        if entry is None or self._expired(event_time, entry[1]):
            self._entries[key] = [self.initial, event_time]
        else:
            entry[0] = min(entry[0] * 2, self.maximum)
            entry[1] = event_time
        return self._entries[key][0]

    def delay(self, key):
        entry = self._entries.get(key)
        return entry[0] if entry else 0.0

    def in_backoff_since(self, key, event_time, now):
        """True while now is within the current delay after event_time (a container's finish)."""
        entry = self._entries.get(key)
        if entry is None or self._expired(event_time, entry[1]):
            return False
        return now - event_time < entry[0]

    def in_backoff_since_update(self, key, now):
        """True while now is within the current delay after the last recorded failure (image pulls)."""
        entry = self._entries.get(key)
        if entry is None or self._expired(now, entry[1]):
            return False
        return now - entry[1] < entry[0]

    def last_update(self, key):
        entry = self._entries.get(key)
        return entry[1] if entry else None

    def forget(self, key):
        self._entries.pop(key, None)

    def forget_prefix(self, prefix):
        for key in [k for k in self._entries if k.startswith(prefix)]:
            del self._entries[key]
