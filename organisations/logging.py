"""Logging filters: personal data masked in every record before any handler writes it, and a refused
request (403) logged as one line instead of a traceback."""

from __future__ import annotations

import logging

from organisations.personal import mask_personal_data_in_text

_TRACEBACK_FORMATTER = logging.Formatter()


def _mask_value(value: object) -> object:
    return mask_personal_data_in_text(value) if isinstance(value, str) else value


class MaskPersonalDataFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logged as is rather than dropped
            return True
        masked = mask_personal_data_in_text(message)
        if masked != message:
            # Mask the arguments one by one first: formatters such as uvicorn's access log unpack
            # record.args and break on a record whose arguments were folded into its message.
            if isinstance(record.msg, str):
                record.msg = mask_personal_data_in_text(record.msg)
            if isinstance(record.args, tuple):
                record.args = tuple(_mask_value(a) for a in record.args)
            elif isinstance(record.args, dict):
                record.args = {k: _mask_value(v) for k, v in record.args.items()}
            try:
                still_personal = record.getMessage() != mask_personal_data_in_text(record.getMessage())
            except Exception:
                still_personal = True
            if still_personal:  # a number split across arguments, or one given as an int
                record.msg = masked
                record.args = None
        # A traceback can quote a URL or a value too: format it here, masked, so handlers reuse it.
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACK_FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_personal_data_in_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_personal_data_in_text(record.stack_info)
        return True


class OneLineDenialFilter(logging.Filter):
    """Django logs every 403 with the PermissionDenied traceback: forty lines for an ordinary refusal.
    Log it as one line instead: who, which path, and the reason the user was given."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) != 403 or not record.name.startswith("django."):
            return True
        if getattr(record, "_anmu_denial", False) or not record.exc_info:
            return True  # already one line (a CSRF refusal, an API 403 answered without raising)
        request = getattr(record, "request", None)
        user = getattr(request, "user", None)
        username = user.get_username() if user is not None and user.is_authenticated else "anonymous"
        path = getattr(request, "path", "") or ""
        reason = str(record.exc_info[1]) if record.exc_info[1] is not None else ""
        record.msg = "Forbidden: user=%s path=%s reason=%s"
        record.args = (username, path.encode("unicode_escape").decode("ascii"), reason or "-")
        record.exc_info = None
        record.exc_text = None
        record._anmu_denial = True
        return True
