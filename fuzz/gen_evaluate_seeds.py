#!/usr/bin/env python3
"""Writes the seed inputs of the `evaluate` fuzz target into fuzz/corpus/evaluate/.

The target's input is a struct deriving `arbitrary::Arbitrary` (fuzz_targets/evaluate.rs),
decoded from raw bytes the way arbitrary 1.5 does it: integers and string contents from the
front, string lengths from the back (1 byte while at most 256 bytes remain, else 2, big
endian), `Vec` elements each after a byte with the low bit set and ended by one without,
`Option` after a flag byte, and the last field (`policy`) takes whatever is left. This
script encodes seeds in that layout; `cargo +nightly fuzz fmt evaluate <file>` shows how a
file decodes, to check it after changing the struct or upgrading arbitrary.

Run from the repository root: python3 fuzz/gen_evaluate_seeds.py
"""

import hashlib
import json
import pathlib

OUT = pathlib.Path(__file__).resolve().parent / "corpus" / "evaluate"


def ops_for(seed):
    """The field values in declaration order, except `policy`."""
    ops = [("str", seed["principal"]), ("str", seed["action"]), ("str", seed["resource"])]
    for key, values in seed.get("context", {}).items():
        values = [values] if isinstance(values, str) else values
        ops += [("u8", 1), ("str", key)]
        for v in values:
            ops += [("u8", 1), ("str", v)]
        ops.append(("u8", 0))
    ops.append(("u8", 0))
    ops.append(("u8", 1 if seed.get("resource_policy") else 0))
    account = seed.get("resource_account")
    ops += [("u8", 1), ("str", account)] if account is not None else [("u8", 0)]
    ops += [("str", seed.get("glob_pattern", "")), ("str", seed.get("glob_text", ""))]
    ops.append(("u8", 1 if seed.get("glob_ignore_case") else 0))
    return ops


def encode(seed):
    ops = ops_for(seed)
    policy = json.dumps(seed["policy"], separators=(",", ":")).encode()
    strs = [s.encode() for kind, s in ops if kind == "str"]
    widths = [1] * len(strs)
    for _ in range(10):
        total = sum(len(s) for s in strs) + sum(widths) + len(policy)
        total += sum(1 for kind, _ in ops if kind == "u8")
        remaining, new_widths, sizes = total, [], []
        i = 0
        for kind, value in ops:
            if kind == "u8":
                remaining -= 1
                continue
            data = strs[i]
            i += 1
            assert remaining >= 2, "a string length needs at least two bytes left"
            width = 1 if remaining <= 256 else 2 if remaining <= 65537 else 4
            assert width <= 2, "seed too large"
            remaining -= width
            assert len(data) <= remaining
            new_widths.append(width)
            if width == 1:
                sizes.append(bytes([len(data)]))
            elif remaining < 256:  # only the first of the two bytes is read
                sizes.append(bytes([len(data), 0]))
            else:
                sizes.append(len(data).to_bytes(2, "big"))
            remaining -= len(data)
        if new_widths == widths:
            break
        widths = new_widths
    else:
        raise RuntimeError("length widths did not settle")
    front = bytearray()
    i = 0
    for kind, value in ops:
        if kind == "u8":
            front.append(value)
        else:
            front += strs[i]
            i += 1
    # Lengths are read from the end: the first string's length is the last bytes.
    return bytes(front) + policy + b"".join(reversed(sizes))


def allow(action, resource, **extra):
    st = {"Effect": "Allow", "Action": action, "Resource": resource}
    st.update(extra)
    return {"Version": "2012-10-17", "Statement": [st]}


SEEDS = {
    "identity_allow_get_object": {
        "principal": "arn:aws:iam::111111111111:user/bob",
        "action": "s3:GetObject",
        "resource": "arn:aws:s3:::amzn-s3-demo-bucket/x",
        "policy": allow("s3:Get*", "arn:aws:s3:::amzn-s3-demo-bucket/*"),
        "glob_pattern": "s3:Get*",
        "glob_text": "s3:GetObject",
    },
    "cross_account_resource_policy": {
        "principal": "arn:aws:iam::111111111111:user/bob",
        "action": "s3:PutObject",
        "resource": "arn:aws:s3:::amzn-s3-demo-bucket/x",
        "resource_policy": True,
        "resource_account": "222222222222",
        "policy": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "TrustAccountA",
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                    "Action": ["s3:GetObject", "s3:PutObject"],
                    "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*",
                }
            ],
        },
        "glob_pattern": "arn:aws:s3:::*/x",
        "glob_text": "arn:aws:s3:::amzn-s3-demo-bucket/x",
    },
    "trust_policy_external_id": {
        "principal": "arn:aws:sts::222222222222:assumed-role/requestor/session",
        "action": "sts:AssumeRole",
        "resource": "arn:aws:iam::111111111111:role/xacct/grant",
        "context": {"sts:ExternalId": "abc-123"},
        "resource_policy": True,
        "resource_account": "111111111111",
        "policy": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::222222222222:role/requestor"},
                    "Action": "sts:AssumeRole",
                    "Condition": {
                        "StringEquals": {"sts:ExternalId": "abc-123"},
                        "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::222222222222:role/*"},
                    },
                }
            ],
        },
        "glob_pattern": "STS:assume*",
        "glob_text": "sts:AssumeRole",
        "glob_ignore_case": True,
    },
    "deny_not_action_not_resource": {
        "principal": "arn:aws-cn:iam::111111111111:role/app",
        "action": "iam:CreateUser",
        "resource": "arn:aws-cn:iam::111111111111:user/eve",
        "policy": {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
                {"Sid": "NoOthers", "Effect": "Deny", "Action": "*", "NotResource": ["arn:aws-cn:s3:::b", "arn:aws-cn:s3:::b/*"]},
            ],
        },
        "glob_pattern": "*****************************************************************x",
        "glob_text": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaay",
    },
    "dates_ips_numbers": {
        "principal": "arn:aws:iam::111111111111:user/alice",
        "action": "s3:ListBucket",
        "resource": "arn:aws:s3:::b",
        "context": {
            "aws:CurrentTime": "2026-11-22T12:00:00Z",
            "aws:SourceIp": "203.0.113.9",
            "s3:max-keys": "5",
            "aws:MultiFactorAuthAge": "120",
        },
        "policy": allow(
            "s3:ListBucket",
            "arn:aws:s3:::b",
            Condition={
                "DateLessThan": {"aws:CurrentTime": "2027-01-01T00:00:00+01:00"},
                "IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "203.0.113.0/24", "2001:db8::/32"]},
                "NumericLessThanEquals": {"s3:max-keys": 10},
                "NumericLessThanIfExists": {"aws:MultiFactorAuthAge": "3600"},
                "Bool": {"aws:SecureTransport": True},
                "Null": {"aws:TokenIssueTime": "true"},
            },
        ),
        "glob_pattern": "a*b*c?",
        "glob_text": "axxbyycz",
    },
    "policy_variables_home_folder": {
        "principal": "arn:aws:iam::111111111111:user/bob",
        "action": "s3:PutObject",
        "resource": "arn:aws:s3:::home/bob/notes.txt",
        "context": {"aws:username": "bob"},
        "policy": allow(
            "s3:*Object",
            ["arn:aws:s3:::home/${aws:username}/*", "arn:aws:s3:::home/${aws:userid, 'none'}/${*}"],
        ),
        "glob_pattern": "${*}",
        "glob_text": "${*}",
    },
    "service_principal_lambda": {
        "principal": "lambda.amazonaws.com",
        "action": "sts:AssumeRole",
        "resource": "arn:aws:iam::111111111111:role/fn",
        "resource_policy": True,
        "resource_account": "111111111111",
        "policy": {
            "Version": "2012-10-17",
            "Statement": {"Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com", "ec2.amazonaws.com"]}, "Action": "sts:AssumeRole"},
        },
        "glob_pattern": "",
        "glob_text": "",
    },
    "multivalued_tag_keys": {
        "principal": "arn:aws-us-gov:iam::111111111111:role/tagger",
        "action": "ec2:CreateTags",
        "resource": "arn:aws-us-gov:ec2:us-gov-west-1:111111111111:instance/i-0abc",
        "context": {"aws:TagKeys": ["team", "cost-center"], "aws:RequestTag/team": "red"},
        "policy": allow(
            "ec2:CreateTags",
            "arn:aws-us-gov:ec2:*:111111111111:instance/*",
            Condition={
                "ForAllValues:StringLike": {"aws:TagKeys": ["team", "cost-*"]},
                "ForAnyValue:StringEqualsIgnoreCase": {"aws:RequestTag/team": ["RED", "blue"]},
                "StringNotEqualsIfExists": {"aws:ResourceTag/owner": "other"},
            },
        ),
        "glob_pattern": "?",
        "glob_text": "é",
    },
    "anonymous_not_principal": {
        "principal": "*",
        "action": "s3:GetObject",
        "resource": "arn:aws:s3:::public/index.html",
        "resource_policy": True,
        "resource_account": "111111111111",
        "policy": {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::public/*"},
                {"Effect": "Deny", "NotPrincipal": {"AWS": ["111111111111", "arn:aws:iam::111111111111:role/admin"]}, "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::public/*"},
            ],
        },
        "glob_pattern": "*.html",
        "glob_text": "index.HTML",
        "glob_ignore_case": True,
    },
    "lambda_qualified_boundary_like": {
        "principal": "arn:aws:sts::111111111111:assumed-role/deployer/ci",
        "action": "lambda:InvokeFunction",
        "resource": "arn:aws:lambda:us-east-1:111111111111:function:f:PROD",
        "context": {"aws:PrincipalTag/team": "platform"},
        "policy": allow(
            "lambda:Invoke*",
            "arn:aws:lambda:us-east-1:111111111111:function:f:*",
            Condition={"StringEquals": {"aws:PrincipalTag/team": "platform"}, "DateGreaterThan": {"aws:CurrentTime": "1700000000"}},
        ),
        "glob_pattern": "function:f:*",
        "glob_text": "function:f:PROD",
    },
}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for name, seed in SEEDS.items():
        data = encode(seed)
        (OUT / f"{name}.bin").write_bytes(data)
        print(f"{name}.bin {len(data)} bytes {hashlib.sha1(data).hexdigest()[:8]}")


if __name__ == "__main__":
    main()
