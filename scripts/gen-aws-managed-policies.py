#!/usr/bin/env python3
"""Generates src/services/iam/aws-managed-policies.json.gz: every AWS managed policy (name, path,
default version, dates, document) as DATA, taken from the catalogue moto maintains
(moto/iam/aws_managed_policies.py, Apache-2.0, https://github.com/getmoto/moto), which moto
regenerates from a real account's ListPolicies/GetPolicyVersion. Run it with a Python that has moto
installed:  python3 scripts/gen-aws-managed-policies.py
"""
import gzip
import json
import os

import moto
from moto.iam.aws_managed_policies import aws_managed_policies_data

data = json.loads(aws_managed_policies_data)
policies = {}
for name in sorted(data):
    p = data[name]
    policies[name] = [p["Path"], p["DefaultVersionId"], p["CreateDate"], p["UpdateDate"], p["Document"]]

out = {
    "source": f"moto {moto.__version__} moto/iam/aws_managed_policies.py (Apache-2.0)",
    "fields": ["path", "defaultVersionId", "createDate", "updateDate", "document"],
    "policies": policies,
}
target = os.path.join(os.path.dirname(__file__), "..", "src", "services", "iam", "aws-managed-policies.json.gz")
raw = json.dumps(out, separators=(",", ":"), sort_keys=False).encode()
# mtime=0: the same input gives the same bytes
with open(target, "wb") as f:
    f.write(gzip.compress(raw, compresslevel=9, mtime=0))
print(f"wrote {target}: {len(policies)} policies, {len(raw)} bytes of JSON")
