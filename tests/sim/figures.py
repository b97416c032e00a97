#!/usr/bin/env python3
"""Closing figures of the scenario files in tests/sim/scenarios, computed without the crate.

Each scenario's figures are written to NAME.expected.json beside it, which the Rust test
(tests/sim/main.rs) compares with what the simulation gives. With --check nothing is written
and the exit status says whether the files hold what this script computes.

The model is the scenario format's own description, second by second (see src/sim/mod.rs):
energy flows only while the relay is closed; a pulse completes when 1/constant kWh has
accumulated; in each second the pulses that completed are metered at its end: whole Wh of the
running pulse count (floor(pulses * 1000 / constant)), each rated at the TOU price of the
tariff in force during that second plus the tier surcharge of the month's consumption (split at
the thresholds, the month starting on the 1st at 00:00 local, or at `start`); money is
debited exactly, a remainder below 0.0001 carried; the relay trips when the balance reaches
-overdraft and closes again at a purchase that lifts the balance above zero. Purchases and
price changes take effect at their instant, after that second's energy. The head-end reads
each meter every 15 minutes from `start`; a low-credit notification goes out when a reading
is at or below a threshold and the one before was above it (the first reading notifies
nothing).

Python's integers and fractions are exact; nothing here is rounded but where the meter rounds.
"""

import datetime as dt
import json
import sys
import tomllib
from fractions import Fraction
from pathlib import Path

HERE = Path(__file__).parent / "scenarios"


def dec(s, places):
    """A decimal string to an integer scaled by 10**places, exactly."""
    f = Fraction(s) * 10**places
    assert f.denominator == 1, s
    return int(f)


def parse_time(s):
    return dt.datetime.fromisoformat(s)


def figures(scenario):
    start = parse_time(scenario["start"])
    tz = start.tzinfo
    t0 = int(start.timestamp())
    end = t0 + scenario["days"] * 86400
    tariff = scenario["tariff"]
    prices = [dec(p, 4) for p in tariff["prices"]]  # 0.0001 per kWh
    day = [(int(h[:2]) * 3600 + int(h[3:]) * 60, n) for h, n in tariff["day"]]
    tiers = tariff.get("tiers")
    thresholds = [dec(t, 3) for t in tiers["thresholds"]] if tiers else []  # Wh
    surcharges = [0] + ([dec(s, 4) for s in tiers["surcharges"]] if tiers else [])
    changes = sorted(
        (int(parse_time(c["at"]).timestamp()), [dec(p, 4) for p in c["prices"]])
        for c in scenario.get("price_change", [])
    )

    def tariff_at(t):
        local = dt.datetime.fromtimestamp(t, tz)
        secs = local.hour * 3600 + local.minute * 60 + local.second
        return [n for s, n in day if s <= secs][-1]

    def month_of(t):
        local = dt.datetime.fromtimestamp(t, tz)
        return (local.year, local.month)

    out = []
    for m in scenario["meter"]:
        address = m["address"]
        c = m["constant"]
        load = m["load"] if isinstance(m["load"], list) else [m["load"]] * 24
        debited = Fraction(0)  # 0.0001, exact
        alarm1, alarm2 = dec(m["alarm1"], 4), dec(m["alarm2"], 4)
        overdraft = dec(m["overdraft"], 4)
        purchased = dec(m["opening_credit"], 4)
        buys = sorted(
            (int(parse_time(p["at"]).timestamp()), dec(p["amount"], 4))
            for p in scenario.get("purchase", [])
            if p["meter"] == address
        )
        closed = True
        partial = 0  # W*s*imp/kWh of the pulse under way
        pulses = 0
        wh_total = 0
        by_tariff = [0, 0, 0, 0]
        month, month_wh = month_of(t0), 0
        cur_prices = list(prices)
        ci = bi = 0
        cut_off_at = None
        readings = []

        def debited_minor():
            # the meter debits whole 0.0001 and carries the rest (floor: never negative)
            return int(debited)

        def shown_balance():
            return purchased - debited_minor()

        for t in range(t0, end + 1):
            if t > t0:
                # the energy of the second (t-1, t]
                if closed:
                    local = dt.datetime.fromtimestamp(t - 1, tz)
                    partial += load[local.hour] * c
                    pulses += partial // 3_600_000
                    partial %= 3_600_000
                wh = pulses * 1000 // c
                delta, wh_total = wh - wh_total, wh
                # rated at the second they were counted in (the meter's rule: the last
                # second before the tick), so a switch or a settlement at t is after them
                if month_of(t - 1) != month:
                    month, month_wh = month_of(t - 1), 0
                n = tariff_at(t - 1)
                by_tariff[n - 1] += delta
                # split the increment at the tier thresholds
                left, cost = delta, Fraction(0)
                while left > 0:
                    tier = sum(1 for th in thresholds if month_wh >= th)
                    room = thresholds[tier] - month_wh if tier < len(thresholds) else left
                    take = min(left, room)
                    cost += Fraction(take * (cur_prices[n - 1] + surcharges[tier]), 1000)
                    month_wh += take
                    left -= take
                debited += cost
                if closed and shown_balance() <= -overdraft:
                    closed = False
                    cut_off_at = t
            # the system at this instant: purchases, campaigns
            while bi < len(buys) and buys[bi][0] <= t:
                purchased += buys[bi][1]
                bi += 1
                if not closed and shown_balance() > 0:
                    closed = True
            while ci < len(changes) and changes[ci][0] <= t:
                cur_prices = changes[ci][1]
                ci += 1
            if (t - t0) % 900 == 0:
                readings.append(shown_balance())

        alerts = 0
        for threshold in (alarm1, alarm2):
            for before, now in zip(readings, readings[1:]):
                if now <= threshold < before:
                    alerts += 1

        def kwh(w):
            return f"{w // 1000}.{w % 1000:03d}"

        def money(x):
            sign = "-" if x < 0 else ""
            x = abs(x)
            return f"{sign}{x // 10000}.{x % 10000:04d}"

        out.append(
            {
                "address": address,
                "energy_kwh": kwh(wh_total),
                "energy_by_tariff_kwh": [kwh(w) for w in by_tariff],
                "spent": money(debited_minor()),
                "purchased": money(purchased),
                "balance": money(shown_balance()),
                "relay": "closed" if closed else "open",
                "low_credit_alerts": alerts,
                "cut_off_at": dt.datetime.fromtimestamp(cut_off_at, tz).isoformat()
                if cut_off_at is not None
                else None,
            }
        )
    return {"meters": out}


def main():
    check = "--check" in sys.argv[1:]
    ok = True
    for path in sorted(HERE.glob("*.toml")):
        with path.open("rb") as f:
            got = figures(tomllib.load(f))
        text = json.dumps(got, indent=2) + "\n"
        target = path.with_suffix(".expected.json")
        if check:
            if not target.exists() or target.read_text() != text:
                print(f"{target.name}: not what figures.py computes", file=sys.stderr)
                ok = False
        else:
            target.write_text(text)
            print(f"{target.name} written")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
