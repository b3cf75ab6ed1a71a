"""Interviews and circulars (约谈通报): a bureau summons institutions or lower bureaus, they rectify, the bureau
verifies; circulars commend or criticise.

Re-exported by ``cases.models`` so Django registers these models with the ``cases`` app. States change only
through the named transitions below, run by ``workflows/interview/services``. Every timestamp is a real
column: the annual evaluation counts interviews held, rectifications passed and circulars from them.
"""

from __future__ import annotations
