#!/usr/bin/env python3
"""Independent known-answer values for tests/security_vectors.rs.

Computed with pyca/cryptography (KBKDFCMAC and CMAC), not with this crate. Run:
    python3 tests/kat/security_kat.py
"""
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.cmac import CMAC
from cryptography.hazmat.primitives.kdf.kbkdf import KBKDFCMAC, Mode, CounterLocation

def kbkdf(key, label, context, length):
    return KBKDFCMAC(algorithm=algorithms.AES, mode=Mode.CounterMode, length=length, rlen=4,
                     llen=4, location=CounterLocation.BeforeFixed, label=label,
                     context=context, fixed=None).derive(key)

def cmac(key, msg):
    c = CMAC(algorithms.AES(key)); c.update(msg); return c.finalize()

master = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
ctx = bytes.fromhex("201000000012") + (1).to_bytes(2, "big")
for label in [b"PMv1-enc", b"PMv1-mac", b"PMv1-auth"]:
    print("meter", label.decode(), kbkdf(master, label, ctx, 16).hex())

# SP 800-108r1 K0 variant, composed by hand from CMAC: r = 32, counter before,
# F = Label || 00 || Context || [L]_32, K0 = CMAC(KI, F), K(i) = CMAC(KI, [i]_32 || F || K0).
ki = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
for L in [16, 40]:
    F = b"key-control" + b"\x00" + b"context" + (8 * L).to_bytes(4, "big")
    k0 = cmac(ki, F)
    out = b"".join(cmac(ki, i.to_bytes(4, "big") + F + k0) for i in range(1, (L + 15) // 16 + 1))[:L]
    print("k0", L, F.hex(), out.hex())

# A whole sealed frame, built from the documented layout (src/security/seal.rs):
# counter mode, meter 201000000012, key version 1, counter 1, valid until 1700000000,
# Recharge(amount 1 000 000 minor units, purchase count 1, customer 00 00 00 00 12 34), 8-byte tag.
from cryptography.hazmat.primitives.ciphers import Cipher, modes
k_enc = kbkdf(master, b"PMv1-enc", ctx, 16)
k_mac = kbkdf(master, b"PMv1-mac", ctx, 16)
payload = (1_000_000).to_bytes(8, "big") + (1).to_bytes(4, "big") + bytes.fromhex("000000001234")
header = (bytes([0x01, 0x00]) + bytes.fromhex("201000000012") + (1).to_bytes(2, "big")
          + bytes([0x02, 8]) + (0).to_bytes(4, "big") + (1).to_bytes(4, "big")
          + (1_700_000_000).to_bytes(4, "big") + len(payload).to_bytes(2, "big"))
cb = bytes([0x01, 0x00]) + (0).to_bytes(4, "big") + (1).to_bytes(4, "big") + (1).to_bytes(2, "big") + bytes(4)
enc = Cipher(algorithms.AES(k_enc), modes.CTR(cb)).encryptor()
ct = enc.update(payload) + enc.finalize()
tag = cmac(k_mac, header + ct)[:8]
print("frame", (header + ct + tag).hex())
