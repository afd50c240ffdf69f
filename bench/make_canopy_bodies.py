#!/usr/bin/env python3
"""Writes N distinct signed Canopy webhook bodies, one per line.

The data holds only strings and integers, so Python's compact JSON is
byte-for-byte what JavaScript's JSON.stringify prints, and the signature is
the one Canopy would send.
"""
import base64, hashlib, hmac, json, sys

count, secret = int(sys.argv[1]), sys.argv[2].encode()
out = sys.stdout
for i in range(count):
    data = {
        "account_id": f"acct-{i % 1000}",
        "available_credit_cents": i,
        "effective_as_of": "2023-01-26T15:42:39.567559-05:00",
        "seq": i,
    }
    compact = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    sig = base64.b64encode(hmac.new(secret, compact.encode(), hashlib.sha256).digest()).decode()
    out.write(json.dumps({"event": "account_calculations_change", "data": data, "hmac_signature": sig}, separators=(",", ":")))
    out.write("\n")
