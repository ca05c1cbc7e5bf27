class PackError(Exception):
    """A rule pack that does not check: where (file, line, rule id) and why."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None, rule_id: str | None = None):
        self.message, self.file, self.line, self.rule_id = message, file, line, rule_id
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file or '?'}:{self.line or '?'}"
        return f"{where}: {'rule ' + self.rule_id + ': ' if self.rule_id else ''}{self.message}"
