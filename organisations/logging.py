"""A logging filter that masks phone and ID numbers in every record before any handler writes it."""

from __future__ import annotations

import logging

from organisations.personal import mask_personal_data_in_text


class MaskPersonalDataFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logged as is rather than dropped
            return True
        masked = mask_personal_data_in_text(message)
        if masked != message:
            record.msg = masked
            record.args = None
        return True
