#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into fuzz/corpus/<target>/ (seed-* files).

Seeds come from the repository's replay fixtures (fixtures/<format>/<match>/steps/*.json, as
they are: the provider targets read step files), the real API samples in
tests/data/reference-responses/ (wrapped into step files at the request the provider makes),
and the payloads of the tests. Run it from anywhere: `python3 fuzz/seeds.py`.
"""

import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"
REFERENCE = ROOT / "tests" / "data" / "reference-responses"


def write(target, name, data):
    """Writes one seed; text is UTF-8, dicts are compact JSON."""
    directory = CORPUS / target
    directory.mkdir(parents=True, exist_ok=True)
    if isinstance(data, (dict, list)):
        data = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    if isinstance(data, str):
        data = data.encode()
    (directory / f"seed-{name}").write_bytes(data)


def reference(path):
    """A reference response without the `_source` note."""
    body = json.loads((REFERENCE / path).read_text())
    if isinstance(body, dict):
        body.pop("_source", None)
    return body


def step(wall_clock, responses):
    """A step file serving `responses` (request → body) with status 200."""
    return {
        "wall_clock_utc": wall_clock,
        "responses": {k: {"status": 200, "body": v} for k, v in responses.items()},
    }


def providers():
    for target, fixture in [
        ("fifa", "fifa/2018-wc-final-fra-cro"),
        ("livescore", "livescore/2014-wc-sf-bra-ger"),
        ("football_data", "football-data/2018-wc-final-fra-cro"),
        ("api_football", "api-football/2014-wc-sf-bra-ger"),
    ]:
        for path in sorted((ROOT / "fixtures" / fixture / "steps").glob("*.json")):
            # Compact: the same JSON in fewer bytes, so mutations land on values.
            write(target, f"step-{path.stem}.json", json.loads(path.read_text()))

    ids = "17/255711/285063/400128082"
    write("fifa", "reference-qat-ecu-2022.json", step("2022-11-20T17:30:00Z", {
        "/api/v1/calendar/matches?idCompetition=17&idSeason=254645&count=500&language=en-GB":
            reference("fifa/_api_v3_calendar_matches.json"),
        f"/api/v1/timelines/{ids}?language=en-GB":
            reference("fifa/_api_v3_timelines_17_255711_285063_400128082.json"),
        f"/api/v1/live/football/{ids}?language=en-GB":
            reference("fifa/_api_v3_live_football_now.json")["Results"][0],
    }))
    calendar = reference("fifa/_api_v3_calendar_matches.json")
    calendar["Results"][0].update({"IdStage": "1", "IdMatch": "2", "MatchStatus": 3})
    write("fifa", "reference-ned-qat-excerpt.json", step("2022-11-20T16:30:00Z", {
        "/api/v1/calendar/matches?idCompetition=17&idSeason=254645&count=500&language=en-GB":
            calendar,
        "/api/v1/timelines/17/255711/1/2?language=en-GB":
            reference("fifa/timeline_excerpt_NED-QAT_2022-11-29.json"),
    }))

    live = reference("livescore/matches_live_v2_2023-12-18_excerpt.json")
    events = reference("livescore/events_legacy_docs_sample.json")
    write("livescore", "reference-v2-shape.json", step("2023-12-18T09:00:00Z", {
        "/api-client/scores/live.json": {"success": True, "data": {"match": [live]}},
        f"/api-client/scores/events.json?id={live['id']}": events,
    }))

    write("api_football", "reference-live-all-2024.json", step("2024-02-21T21:00:00Z", {
        "/fixtures?live=all": reference("api-football/fixtures_live_all_2024-02-21_excerpt.json"),
    }))


def push():
    incident = {"id": "e-17", "type": "goal", "side": "home", "player": "A. Striker", "minute": 58}
    snapshot = {
        "id": "derby-1", "sequence": 7, "competition": "Town League",
        "home": {"id": "nf", "name": "Northfield"}, "away": {"name": "Southbury"},
        "kickoff": "2026-05-01T15:00:00Z", "phase": "2H", "minute": 63,
        "score": {"home": 1, "away": 0}, "incidents": [incident],
    }
    write("push_schema", "readme.json", {"source": "newsroom", "match": snapshot})
    player = {"name": "Hugo Lloris", "number": 1, "position": "goalkeeper", "captain": True}
    full = dict(snapshot)
    full.update({
        "phase": "PEN", "minute": 120, "extra": 3, "penalties": {"home": 4, "away": 3},
        "extra_time": True, "winner": "home",
        "venue": {"name": "Luzhniki Stadium", "city": "Moscow"},
        "home": {"id": "nf", "name": "Northfield", "lineup": {
            "formation": "4-2-3-1", "coach": "D. Deschamps",
            "starting": [player, {"name": "Raphaël Varane", "number": 4, "position": "defender"}],
            "bench": [{"name": "Steve Mandanda", "number": 16}]}},
        "incidents": [
            incident,
            {"id": "e-18", "type": "own_goal", "side": "away", "player": "M. Mandžukić",
             "minute": 18, "period": "1H", "score": {"home": 1, "away": 1}},
            {"id": "e-19", "type": "penalty_missed", "side": "away", "minute": 90, "extra": 4,
             "detail": "saved"},
            {"id": "e-20", "type": "shootout_scored", "side": "home", "period": "PEN",
             "penalties": {"home": 1, "away": 0}},
            {"id": "e-21", "type": "second_yellow", "side": "away", "minute": 101},
            {"id": "e-22", "type": "goal_cancelled", "side": "home", "minute": 59},
        ],
    })
    write("push_schema", "full.json", {"match": full})
    write("push_schema", "bad-phase.json", {"match": dict(snapshot, phase="3H")})
    write("push_schema", "pre-minimal.json", {"match": {
        "id": "m", "home": {"name": "A"}, "away": {"name": "B"}, "phase": "PRE",
        "score": {"home": 0, "away": 0}}})


def texts():
    for i, text in enumerate([
        "/subscribe France", "subscribe France goals cards",
        "/subscribe@herald_bot South Korea full_time", "subscribe", "subscribe goals",
        "seguir Brasil gols cartões", "seguir España goles tarjetas penaltis",
        "suivre France buts cartons", "/unsubscribe", "unsubscribe World Cup", "/list", "LIVE",
        "/lang pt-BR", "lang", "/start", "help", "hello there", "/", "subscribe +1 415 555 2671",
        "subscribe Côte d'Ivoire yellow-card", "subscribe 300331552 penalties periods",
    ]):
        write("bot_command", f"{i:02}.txt", text)

    for i, text in enumerate([
        "+1 (415) 555-2671", "GB\n07400 123456", "+55 11 98765-4321", "call me", "4155552671",
        "+1 123", "+44 7400 12345", "+19002345678", "+33899123456", "+979123456789",
        "+881612345678", "US\n(415) 555-2671", "br\n11 98765-4321", "whatsapp:+14155552671",
        "+882345678901", "",
    ]):
        write("phone", f"{i:02}.txt", text)

    for i, (flags, text) in enumerate([
        (0, "⚽ GOAL! France 1-0 Croatia\nMario Mandžukić (own goal) 18'"),
        (0x80, "GOAL! Germany 1-0 Japan\nIlkay Gündoğan (Germany) 75' " + "x" * 60),
        (1, "word " * 100), (2, "日本代表" * 100), (0, "€" * 81), (0x80, "🟨 Yellow card\n🟥  Red"),
        (9, "a" * 152 + "€" + "a" * 152),
        (0, "⚽ GOAL! " + "word " * 80 + " https://herald.example/m/1"),
        (3, "👨‍👩‍👧‍👦" * 200), (0x81, "Saint‑Étienne — “Les Verts”… Сборная России 🇧🇷"),
    ]):
        write("text_fit", f"{i:02}.bin", bytes([flags]) + text.encode())


def inbound():
    form = "ToCountry=US&From=%2B14155552671&Body={}&To=%2B15005550006&MessageSid=SM1"
    for i, body in enumerate(["STOP", "yes", "123456", "Help%21", "subscribe+France", "%F0%9F%98%80"]):
        write("twilio_inbound", f"signed-{i}.txt",
              "https://herald.example/webhooks/twilio/sms\n\n" + form.format(body))
    write("twilio_inbound", "forged.txt",
          "/webhooks/twilio/sms\n0/KCTR6DLpKmkAf8muzZqo1nDgQ=\n" + form.format("STOP"))

    def slack(flags, body):
        return bytes([flags]) + body.encode()

    write("slack_inbound", "url-verification.bin",
          slack(0, '{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}'))
    write("slack_inbound", "app-mention.bin", slack(0, json.dumps({
        "type": "event_callback", "event_id": "Ev1", "team_id": "T1",
        "event": {"type": "app_mention", "user": "U1", "text": "<@U0LAN0Z89> subscribe France",
                  "channel": "C1", "ts": "1515449522.000016"}})))
    write("slack_inbound", "im.bin", slack(0, json.dumps({
        "type": "event_callback", "event_id": "Ev2",
        "event": {"type": "message", "channel_type": "im", "user": "U1", "text": "list",
                  "channel": "D1"}})))
    write("slack_inbound", "bot-message.bin", slack(0, json.dumps({
        "type": "event_callback", "event_id": "Ev3",
        "event": {"type": "message", "subtype": "bot_message", "bot_id": "B1", "text": "hi"}})))
    write("slack_inbound", "slash-command.bin", slack(1,
          "token=x&team_id=T1DC2JH3J&channel_id=G8PSS9T3V&user_id=U2CERLKJA&command=%2Fherald&text=subscribe+France+goals"))
    write("slack_inbound", "unsigned.bin", slack(3,
          "1531420618 v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503\ntext=&channel_id=C1"))

    def discord(flags, body):
        return bytes([flags]) + (json.dumps(body) if isinstance(body, dict) else body).encode()

    write("discord_inbound", "ping.bin", discord(0, {"type": 1}))
    write("discord_inbound", "subscribe.bin", discord(0, {
        "type": 2, "channel_id": "41771983423143937", "locale": "pt-BR",
        "member": {"user": {"id": "53908232506183680"}},
        "data": {"name": "subscribe", "options": [{"name": "target", "type": 3, "value": "Brasil"},
                                                   {"name": "kinds", "type": 3, "value": "goals"}]}}))
    write("discord_inbound", "list-dm.bin", discord(0, {
        "type": 2, "channel_id": "41771983423143937", "user": {"id": "1"}, "data": {"name": "list"}}))
    write("discord_inbound", "bad-channel.bin", discord(0, {
        "type": 2, "channel_id": "../x", "data": {"name": "list"}}))
    write("discord_inbound", "unsigned.bin", discord(1, "1700000000 00ff\n{\"type\":1}"))

    for i, text in enumerate([
        "3\n", "\nlast_event_id=2", "7\nteam=France&kind=goal", "5\n", " 6 \nlastEventId=1",
        "99\nmatch=m1", "abc\n", "-1\ntopic=world-cup", "\nteams=France",
        "9223372036854775807\n",
    ]):
        write("last_event_id", f"{i:02}.txt", text)


def dictionaries():
    """A libFuzzer dictionary per JSON target: the keys of its seeds, and their short strings
    (statuses, codes, kinds), quoted as they appear."""
    out = ROOT / "fuzz" / "dictionaries"
    out.mkdir(exist_ok=True)
    for target in ["fifa", "livescore", "football_data", "api_football", "push_schema"]:
        words = set()

        def walk(value):
            if isinstance(value, dict):
                for key, inner in value.items():
                    words.add(key)
                    walk(inner)
            elif isinstance(value, list):
                for inner in value:
                    walk(inner)
            elif isinstance(value, str) and len(value) <= 12:
                words.add(value)

        for seed in (CORPUS / target).glob("seed-*"):
            walk(json.loads(seed.read_text()))
        # ASCII only (libFuzzer reads `\\xNN`-free entries) and short (its limit is 64 bytes).
        quoted = sorted(json.dumps(w) for w in words if w.isascii())
        lines = [json.dumps(q) for q in quoted if len(q) <= 48]
        # Values at the ends of the integer types providers' numbers are read into: the
        # fuzzer does not reach them by mutating digits (a kick-off at i64::MIN and a score of
        # 65535 both overflowed before they were in here).
        lines += [
            '"null"', '"true"', '"false"', '"-1"', '"1e999"', '"{}"', '"[]"', '"0.5"',
            '"255"', '"256"', '"65535"', '"65536"', '"4294967295"', '"4294967296"',
            '"2147483647"', '"-2147483648"', '"9223372036854775807"',
            '"-9223372036854775808"', '"18446744073709551615"',
        ]
        (out / f"{target}.dict").write_text("\n".join(lines) + "\n")
        print(f"{target}.dict: {len(lines)} entries")


def main():
    for directory in CORPUS.glob("*"):
        for seed in directory.glob("seed-*"):
            seed.unlink()
    providers()
    push()
    texts()
    inbound()
    dictionaries()
    for directory in sorted(CORPUS.iterdir()):
        files = list(directory.iterdir())
        size = sum(f.stat().st_size for f in files)
        print(f"{directory.name}: {len(files)} files, {size} bytes")


if __name__ == "__main__":
    main()
