"""Errors meant for users: the CLI prints them as plain sentences, without a traceback."""


class UserError(Exception):
    """A mistake the user can fix (bad config, broken file, missing key); the message says how."""
