#!/usr/bin/env python3
"""Write testdata/corpus.tsv: labelled lines for the side-by-side comparison
of our pii_filter / secrets_detection with cpex-pii-filter /
cpex-secrets-detection. Deterministic (fixed seed); rerun after editing.

Columns: family (pii | secret), label (what the line holds; `none` for a
look-alike that must not match), text.
"""

import base64
import json
import os
import random

rnd = random.Random(13)


def luhn_complete(prefix, length):
    digits = [int(c) for c in prefix]
    while len(digits) < length - 1:
        digits.append(rnd.randrange(10))
    for check in range(10):
        total = 0
        for i, d in enumerate(reversed(digits + [check])):
            if i % 2 == 1:
                d *= 2
                if d > 9:
                    d -= 9
            total += d
        if total % 10 == 0:
            return "".join(map(str, digits + [check]))
    raise AssertionError


def group(number, sep):
    return sep.join(number[i:i + 4] for i in range(0, len(number), 4))


def iban(country, bban):
    moved = bban + country + "00"
    num = "".join(str(int(c, 36)) for c in moved)
    check = 98 - int(num) % 97
    return f"{country}{check:02d}{bban}"


def rand_chars(alphabet, n):
    return "".join(rnd.choice(alphabet) for _ in range(n))


ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
rows = []
add = lambda fam, label, text: rows.append((fam, label, text))

# --- PII ---------------------------------------------------------------
for _ in range(20):
    ssn = f"{rnd.randint(100, 665):03d}-{rnd.randint(10, 99):02d}-{rnd.randint(1000, 9999):04d}"
    add("pii", "ssn", rnd.choice(["SSN: {}", "my social security number is {}", "ssn={} on file"]).format(ssn))
for prefix, length in [("4", 16), ("51", 16), ("37", 15), ("6011", 16)] * 5:
    n = luhn_complete(prefix, length)
    add("pii", "card", rnd.choice(["card {}", "pay with {} today", "cc: {}"]).format(group(n, rnd.choice([" ", "-", ""]))))
for _ in range(10):
    n = luhn_complete("4", 16)
    bad = n[:-1] + str((int(n[-1]) + 1) % 10)
    add("pii", "none", f"order number {group(bad, ' ')} shipped")  # fails Luhn
for user, dom in [("ann", "example.com"), ("j.doe", "corp.example.org"), ("sales+eu", "shop.example.net"), ("x_y", "mail.example.co.uk")] * 5:
    add("pii", "email", rnd.choice(["mail {}@{}", "contact: {}@{}", "send it to {}@{} please"]).format(user, dom))
phones = ["(555) 123-4567", "+1 415 555 0132", "555-867-5309", "+44 20 7946 0958", "+49 30 901820", "+33 1 42 68 53 00",
          "+81 3-1234-5678", "+91 98765 43210", "+61 2 9876 5432", "+55 11 98765-4321"]
for p in phones * 2:
    add("pii", "phone", rnd.choice(["call {}", "phone: {}", "reach me on {}"]).format(p))
ibans = [iban("DE", "370400440532013000"), iban("GB", "NWBK60161331926819"), iban("FR", "20041010050500013M02606"),
         iban("NL", "ABNA0417164300"), iban("ES", "21000418450200051332")]
for i in ibans * 2:
    add("pii", "iban", rnd.choice(["IBAN {}", "wire to {}", "account {}"]).format(i))
for text in ["version 1.2.3-45-6789", "ISBN 978-3-16-148410-0", "call extension 4567", "order #123-45-678",
             "timestamp 2024-01-15T10:30:00Z", "port 8080, pid 12345", "room 555", "the year 1999",
             "ticket ABC-1234", "build 2026.12.01", "user@localhost is not an address", "price 4111.11 USD",
             "at example dot com", "100-200-300", "sku 0000-0000-0000-0000"] * 2:
    add("pii", "none", text)

# --- secrets -----------------------------------------------------------
for _ in range(15):
    add("secret", "aws_key", rnd.choice(["aws_access_key_id = {}", "key {}", "export AWS_ACCESS_KEY_ID={}"]).format("AKIA" + rand_chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)))
for _ in range(15):
    add("secret", "github_token", rnd.choice(["token {}", "GITHUB_TOKEN={}", "auth: {}"]).format(rnd.choice(["ghp_", "gho_", "ghs_"]) + rand_chars(ALNUM, 36)))
for _ in range(15):
    add("secret", "slack_token", rnd.choice(["slack {}", "SLACK_BOT_TOKEN={}"]).format(
        rnd.choice(["xoxb", "xoxp"]) + "-" + rand_chars("0123456789", 11) + "-" + rand_chars("0123456789", 12) + "-" + rand_chars(ALNUM, 24)))
for _ in range(15):
    hdr = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()).rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(json.dumps({"sub": rand_chars(ALNUM, 8), "iat": rnd.randint(10**9, 2 * 10**9)}).encode()).rstrip(b"=").decode()
    sig = rand_chars(ALNUM + "-_", 43)
    add("secret", "jwt", f"Authorization: Bearer {hdr}.{body}.{sig}")
for kind in ["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY"] * 4:
    add("secret", "pem", f"-----BEGIN {kind}----- MIIEvQIBADANBgkqhkiG9w0BAQEFAASC {rand_chars(ALNUM, 24)}")
for text in ["AKIA is a prefix we document", "AKIA1234", "ghp_short", "token ghp_ (redacted)", "xoxb-not-a-token",
             "-----BEGIN CERTIFICATE----- MIIB", "-----BEGIN PUBLIC KEY----- MIIB", "eyJhbGciOi is how JWTs start",
             "sha256 9f86d081884c7d659a2feaa0c55ad015", "uuid 123e4567-e89b-12d3-a456-426614174000",
             "git commit 4b825dc642cb6eb9a060e54bf8d69288fbee4904", "password: see the vault",
             "AWS region us-east-1", "slack channel #alerts", "api_key: ${API_KEY}"] * 2:
    add("secret", "none", text)

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "testdata", "corpus.tsv"), "w", encoding="utf-8") as f:
    f.write("# family\tlabel\ttext  (generated by gen_corpus.py)\n")
    for fam, label, text in rows:
        assert "\t" not in text and "\n" not in text
        f.write(f"{fam}\t{label}\t{text}\n")
print(len(rows), "lines")
