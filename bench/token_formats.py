"""bench/token_formats.py: the in-process cost of minting each token format, 006 as the baseline.

    .venv/bin/python bench/token_formats.py [--quick]

The formats alternate round by round, so load from other work on the machine hits each alike;
the table shows the median over rounds of the best of 3 batches, and the ratio to 006.
"""

import argparse
import statistics
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.settings import SANDBOX_CREDENTIALS  # noqa: E402
from utils.generate_token import generate_token  # noqa: E402

APP_ID, CERT = SANDBOX_CREDENTIALS["APP_ID"], SANDBOX_CREDENTIALS["APP_CERTIFICATE"]
CASES = {
    "006 publisher": lambda: generate_token(APP_ID, CERT, "bench", 1234, "publisher", 3600, version="006"),
    "007 publisher": lambda: generate_token(APP_ID, CERT, "bench", 1234, "publisher", 3600, version="007"),
    "007 rtc + rtm": lambda: generate_token(APP_ID, CERT, "bench", 1234, "publisher", 3600, rtm_user_id="1234"),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run that checks the script works (CI)")
    args = parser.parse_args()
    rounds, number = (2, 200) if args.quick else (15, 2000)
    micros: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(rounds):
        for name, mint in CASES.items():
            micros[name].append(min(timeit.repeat(mint, number=number, repeat=3)) / number * 1e6)
    baseline = statistics.median(micros["006 publisher"])
    print(f"{'format':15} | {'median µs':>9} | {'max µs':>6} | ratio to 006")
    for name, values in micros.items():
        median = statistics.median(values)
        print(f"{name:15} | {median:9.1f} | {max(values):6.1f} | {median / baseline:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
