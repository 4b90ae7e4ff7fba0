"""The demo page's own rules must be the API's: its channel input accepts what the validator accepts."""

import html
import re

from api.validation import CHANNEL


def rendered_pattern(client):
    page = client.get("/").get_data(as_text=True)
    return html.unescape(re.search(r'data-testid="channel"[^>]*pattern="([^"]+)"', page).group(1))


def test_the_channel_input_pattern_accepts_exactly_what_the_validator_accepts(client):
    pattern = rendered_pattern(client)
    for char in map(chr, range(128)):
        assert bool(re.fullmatch(pattern, char)) == bool(re.fullmatch(CHANNEL, char)), repr(char)
    assert re.fullmatch(pattern, "a" * 64) and not re.fullmatch(pattern, "a" * 65)
    assert not re.fullmatch(pattern, "")
