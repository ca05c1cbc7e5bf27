"""A nameko timer whose interval is a setting, read when the service starts rather than when its module is
imported (a process, or a test, that sets the interval after the import gets what it set)."""
from __future__ import annotations

from nameko.timer import Timer


class SettingTimer(Timer):
    def __init__(self, interval, eager=False, **kwargs):
        """`interval`: a function of no arguments giving seconds (a `paht.settings` reader)."""
        self.setting = interval
        super().__init__(interval, eager, **kwargs)

    def setup(self):
        self.interval = self.setting()


setting_timer = SettingTimer.decorator
