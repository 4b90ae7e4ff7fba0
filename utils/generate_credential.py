"""The guide's generateCredential: the Basic credential for Agora's REST API."""

from __future__ import annotations

from base64 import b64encode

from flask import current_app


def generate_credential() -> str:
    """Base64 of CUSTOMER_ID:CUSTOMER_SECRET, as HTTP Basic authentication wants it.

    The result is as secret as the customer secret itself: never log it or return it.
    """
    config = current_app.config
    pair = f"{config['CUSTOMER_ID']}:{config['CUSTOMER_SECRET']}"
    return b64encode(pair.encode("utf-8")).decode("ascii")
