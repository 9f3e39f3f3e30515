#!/usr/bin/env python3
"""The coldstart probe in Python: the probe core and line protocol of probes/core,
standard library only.

    coldstart_probe.py [serve|once|lambda] [--instance-nonce HEX] [--init-kib N]
                       [--init-iters N] [--invoke-iters N] [--nonce HEX]

* serve (the default): init, print ``READY <id>``, answer ``INVOKE`` lines until
  ``EXIT`` or end of input.
* once: init, one invocation of --invoke-iters with --nonce, print its ``DONE`` line.
* lambda: init, then the Lambda Runtime API loop at ``$AWS_LAMBDA_RUNTIME_API``.

Parameters also come from COLDSTART_INSTANCE_NONCE, COLDSTART_INIT_KIB,
COLDSTART_INIT_ITERS and COLDSTART_INVOKE_ITERS (flags win); COLDSTART_TEST_SLEEP
(tests only) sleeps at a known point.

Python integers are unbounded, so every step of the 64-bit arithmetic is masked
with ``& MASK``: that is the whole difference from the Rust core's wrapping u64.
"""

import os
import sys
import time

MASK = (1 << 64) - 1
SEED = 0x636F6C6473746172  # "coldstar"
GOLDEN = 0x9E3779B97F4A7C15
DEFAULT_INIT_KIB = 4
DEFAULT_INIT_ITERS = 100
DEFAULT_INVOKE_ITERS = 50
USAGE = (
    "usage: coldstart_probe.py [serve|once|lambda] [--instance-nonce HEX] "
    "[--init-kib N] [--init-iters N] [--invoke-iters N] [--nonce HEX]"
)


class UsageError(Exception):
    pass


def mix(z):
    """The splitmix64 finaliser."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK


class Probe:
    """One probe instance: its init state, keyed by the start's instance nonce."""

    def __init__(self, instance_id, instance_nonce, init_kib, init_iters):
        self.instance_id = instance_id
        self.invocations = 0
        key = mix(instance_nonce ^ GOLDEN)
        folded = mix(SEED ^ init_kib ^ key)
        memory = []
        for i in range(init_kib * 128):
            word = mix((SEED + GOLDEN * (i + 1)) & MASK) ^ key
            memory.append(word)
            folded = rotl(folded, 5) ^ word
        self.memory = memory
        digest = mix(folded)
        for i in range(init_iters):
            digest = mix(digest ^ i)
        self.digest = digest

    def checksum(self, iters, nonce):
        memory = self.memory
        length = len(memory)
        x = mix(self.digest ^ ((iters * GOLDEN) & MASK) ^ mix(nonce ^ SEED))
        for i in range(iters):
            word = memory[x % length] if length else 0
            x = mix(x ^ word ^ i)
        return x

    def invoke(self, iters, nonce):
        """Serves one request; returns (index, checksum)."""
        index = self.invocations
        self.invocations += 1
        return index, self.checksum(iters, nonce)


HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def is_hex_u64(text):
    return 0 < len(text) <= 16 and HEX_DIGITS.issuperset(text)


def is_dec_u64(text):
    return text.isascii() and text.isdigit() and int(text) <= MASK


def hex_u64(what, text):
    if not is_hex_u64(text):
        raise UsageError(f'{what} "{text}" is not a hexadecimal u64')
    return int(text, 16)


def dec_u64(what, text):
    if not is_dec_u64(text):
        raise UsageError(f'{what} "{text}" is not a non-negative integer')
    return int(text)


def env_u64(name, default):
    text = os.environ.get(name)
    return default if text is None else dec_u64(f"{name}=", text)


def test_sleep():
    """COLDSTART_TEST_SLEEP, e.g. ``init:200ms,invoke:5ms``, as seconds per point."""
    sleep = {"init": 0.0, "invoke": 0.0}
    for part in os.environ.get("COLDSTART_TEST_SLEEP", "").split(","):
        part = part.strip()
        if not part:
            continue
        point, _, amount = part.partition(":")
        amount = amount.strip()
        for unit, scale in (("ms", 1e-3), ("us", 1e-6)):
            if amount.endswith(unit) and amount[: -len(unit)].isdigit():
                seconds = int(amount[: -len(unit)]) * scale
                break
        else:
            raise UsageError(f'COLDSTART_TEST_SLEEP: "{part}" is not <point>:<duration>')
        if point not in sleep:
            raise UsageError(f'COLDSTART_TEST_SLEEP: unknown point "{point}" (init, invoke)')
        sleep[point] = seconds
    return sleep


def parse_args(argv):
    nonce_env = os.environ.get("COLDSTART_INSTANCE_NONCE")
    args = {
        "mode": "serve",
        "instance_nonce": 0 if nonce_env is None else hex_u64("COLDSTART_INSTANCE_NONCE=", nonce_env),
        "init_kib": env_u64("COLDSTART_INIT_KIB", DEFAULT_INIT_KIB),
        "init_iters": env_u64("COLDSTART_INIT_ITERS", DEFAULT_INIT_ITERS),
        "invoke_iters": env_u64("COLDSTART_INVOKE_ITERS", DEFAULT_INVOKE_ITERS),
        "nonce": 0,
    }
    flags = {
        "--instance-nonce": ("instance_nonce", hex_u64),
        "--init-kib": ("init_kib", dec_u64),
        "--init-iters": ("init_iters", dec_u64),
        "--invoke-iters": ("invoke_iters", dec_u64),
        "--nonce": ("nonce", hex_u64),
    }
    words = iter(argv)
    for word in words:
        if word in ("serve", "once", "lambda"):
            args["mode"] = word
        elif word in flags:
            name, parse = flags[word]
            value = next(words, None)
            if value is None:
                raise UsageError(f"{word} needs a value")
            args[name] = parse(word, value)
        elif word in ("-h", "--help"):
            raise UsageError("")
        else:
            raise UsageError(f'unknown argument "{word}"')
    return args


def parse_invoke(line):
    """An ``INVOKE <seq> <nonce:016x> <iters>`` line as (seq, nonce, iters), or
    ``None`` for ``EXIT``; ValueError for anything else."""
    text = line.rstrip("\r\n")
    words = text.split(" ")
    if words == ["EXIT"]:
        return None
    if (
        len(words) == 4
        and words[0] == "INVOKE"
        and is_dec_u64(words[1])
        and len(words[2]) == 16
        and is_hex_u64(words[2])
        and is_dec_u64(words[3])
    ):
        return int(words[1]), int(words[2], 16), int(words[3])
    raise ValueError(f'not a probe protocol line: "{text}"')


def serve(probe, sleep):
    out = sys.stdout
    out.write(f"READY {probe.instance_id:016x}\n")
    out.flush()
    for line in sys.stdin:
        try:
            request = parse_invoke(line)
        except ValueError as e:
            out.write(f"ERR {e}\n")
            out.flush()
            continue
        if request is None:
            return
        seq, nonce, iters = request
        time.sleep(sleep["invoke"])
        index, checksum = probe.invoke(iters, nonce)
        out.write(f"DONE {seq} {probe.instance_id:016x} {index} {checksum:016x}\n")
        out.flush()


def lambda_loop(probe, sleep):
    """The Lambda Runtime API: poll for the next event, answer it, forever."""
    # Imported here, not at the top: urllib.request pulls in http, email and ssl,
    # tens of milliseconds that only this mode needs.
    import json
    import urllib.request

    # Lambda gives host:port; an emulator may give a whole base URL.
    base = os.environ["AWS_LAMBDA_RUNTIME_API"]
    if not base.startswith("http://"):
        base = "http://" + base
    api = base + "/2018-06-01/runtime/invocation/"
    while True:
        with urllib.request.urlopen(api + "next") as event:
            request_id = event.headers["Lambda-Runtime-Aws-Request-Id"]
            payload = json.load(event)
        try:
            nonce = hex_u64("nonce", payload["nonce"])
            time.sleep(sleep["invoke"])
            index, checksum = probe.invoke(payload["iters"], nonce)
            path, body = "/response", {
                "seq": payload["seq"],
                "instance_id": f"{probe.instance_id:016x}",
                "index": index,
                "checksum": f"{checksum:016x}",
            }
        except (KeyError, TypeError, UsageError) as e:
            path, body = "/error", {"errorMessage": str(e), "errorType": "BadRequest"}
        answer = urllib.request.Request(
            api + request_id + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        urllib.request.urlopen(answer).close()


def main():
    try:
        args = parse_args(sys.argv[1:])
        sleep = test_sleep()
    except UsageError as e:
        if str(e):
            print(f"coldstart-probe: {e}", file=sys.stderr)
        print(USAGE, file=sys.stderr)
        return 2
    instance_id = int.from_bytes(os.urandom(8), "little")
    probe = Probe(instance_id, args["instance_nonce"], args["init_kib"], args["init_iters"])
    time.sleep(sleep["init"])
    if args["mode"] == "once":
        time.sleep(sleep["invoke"])
        index, checksum = probe.invoke(args["invoke_iters"], args["nonce"])
        print(f"DONE 0 {instance_id:016x} {index} {checksum:016x}")
    elif args["mode"] == "lambda":
        lambda_loop(probe, sleep)
    else:
        try:
            serve(probe, sleep)
        except BrokenPipeError:
            pass  # the harness closed the pipe: nothing left to answer
    return 0


if __name__ == "__main__":
    sys.exit(main())
