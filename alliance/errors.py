"""One error family for the whole assistant. An `AllianceError`'s message is meant for the
person at the other end: each edge (a command line, the Telegram error handler) shows it as it
is. Any other exception is a bug, logged there with its traceback."""


class AllianceError(Exception):
    """A failure the user can understand and act on; the message says what to do."""
