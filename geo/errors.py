"""The error for everything the user's data or settings got wrong (:class:`DataError`).

A :class:`DataError` carries one line that says what was wrong and what to do; the app shows it as a
message and the CLI prints it after ``error:``. Anything else that escapes, a plain ``ValueError``
included, is a bug: the app logs it with its traceback and shows a reference to that log entry, the
CLI names its type.

A message about a file (a note, a warning, or a :class:`DataError`'s text) is a :class:`Message`: its
text is English, as the CLI prints it, and it carries the catalogue key and values with which the app
says it in the page's language (:func:`said`).
"""

from __future__ import annotations


class DataError(ValueError):
    """The user's data or settings cannot be used; the message says what is wrong and what to do.

    A subclass of ``ValueError`` so that code catching ``ValueError`` keeps working.
    """


class Message(str):
    """A user-facing message said in any language of the catalogue: its English text, with what says it again.

    The string itself is the English phrase of ``key`` in the ``[message]`` table of
    ``geo/i18n/en.toml``, its ``{placeholders}`` filled from ``values``: the CLI, logs and code that
    treats messages as text keep reading English. :meth:`in_language` says the same message in
    another language (a value that is itself a :class:`Message` is said in that language too).
    It pickles as its key and values, so it crosses to and from the import's child process.
    """

    key: str
    values: dict

    def __new__(cls, key: str, **values):
        from geo.i18n import label

        self = super().__new__(cls, label("message", key, "en", **values))
        self.key, self.values = key, values
        return self

    def __reduce__(self):
        return _message, (self.key, self.values)

    def in_language(self, lang: str = "zh") -> str:
        """The message in ``lang`` (``"zh"`` or ``"en"``)."""
        from geo.i18n import label

        return label("message", self.key, lang, **{name: said(value, lang) for name, value in self.values.items()})


def _message(key: str, values: dict) -> Message:
    return Message(key, **values)


def said(message, lang: str = "zh") -> str:
    """``message`` in ``lang``: a :class:`Message` (or an exception whose message is one) said again, else its text."""
    if isinstance(message, BaseException):
        first = message.args[0] if len(message.args) == 1 else None
        return said(first, lang) if isinstance(first, Message) else str(message)
    return message.in_language(lang) if isinstance(message, Message) else message


def data_error(key: str, **values) -> DataError:
    """A :class:`DataError` whose message is ``Message(key, **values)``.

    Its ``str()`` is English; :func:`said` says it in any language of the catalogue.
    """
    return DataError(Message(key, **values))
