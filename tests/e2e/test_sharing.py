"""Sharing across accounts, organizations and regions: who may see, launch, copy and
change an image or a snapshot at each stage of its sharing (table-driven access
matrices), block public access for AMIs and snapshots, an aws-cli sharing story, and
the details of CopyImage.

Accounts: the owner 111111111111, a grantee 222222222222, a stranger 333333333333 (a
12-digit access key is that account) and 444444444444, a member of the organization
o-abcdefghij (OU ou-ab12-ijklmn56 under ou-ab12-cdefgh34), known to the server through
an accounts file and reached with access key AKIAORGMEMBER.

A matrix cell is the outcome of one call: "ok", an exact EC2 error code, or for a
listing whether the resource is "listed" or "absent" in it. A cell where ec2lite is known
to differ from EC2 can be written `deviation(expected, reason)`: the matrix tests skip it
and `check_deviations` asserts it (for an xfail(strict=True) test); none is left now.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import pytest
from botocore.exceptions import ClientError

from support import WAITER, Server, error_code, make_client, make_snapshot, register

OWNER = "111111111111"
GRANTEE = "222222222222"
STRANGER = "333333333333"
MEMBER = "444444444444"
MEMBER_KEY = "AKIAORGMEMBER"
UNINVOLVED = "555555555555"  # an account only ever used as a harmless grantee
ORG_ID = "o-abcdefghij"
PARENT_OU = "ou-ab12-cdefgh34"
CHILD_OU = "ou-ab12-ijklmn56"
ORG_ARN = f"arn:aws:organizations::{OWNER}:organization/{ORG_ID}"
PARENT_OU_ARN = f"arn:aws:organizations::{OWNER}:ou/{ORG_ID}/{PARENT_OU}"

ACCOUNTS_FILE = {
    "organizations": [
        {
            "id": ORG_ID,
            "management_account": OWNER,
            "units": [{"id": PARENT_OU}, {"id": CHILD_OU, "parent": PARENT_OU}],
        }
    ],
    "accounts": [
        {
            "id": MEMBER,
            "organization": ORG_ID,
            "unit": CHILD_OU,
            "access_keys": [{"access_key_id": MEMBER_KEY, "secret_access_key": "s"}],
        }
    ],
}

SOURCE_REGION = "us-east-1"
OTHER_REGION = "us-west-2"
PRINCIPALS = ("owner", "grantee", "stranger", "member")
ACCESS_KEYS = {"owner": OWNER, "grantee": GRANTEE, "stranger": STRANGER, "member": MEMBER_KEY}
ACCOUNT_OF = {"owner": OWNER, "grantee": GRANTEE, "stranger": STRANGER, "member": MEMBER}

IMAGE_BPA_MESSAGE = (
    "You can't publicly share this image because block public access for AMIs is enabled for this account. "
    "To publicly share the image, you must call the DisableImageBlockPublicAccess API."
)

# Outcomes.
OK = "ok"
YES = "listed"
NO = "absent"
NF = "InvalidAMIID.NotFound"
AUTH = "AuthFailure"
SNF = "InvalidSnapshot.NotFound"
UNAUTH = "UnauthorizedOperation"


@dataclass(frozen=True)
class Deviation:
    """A cell where ec2lite is known to answer otherwise than EC2."""

    expected: str
    reason: str




def deviation(expected: str, reason: str) -> Deviation:
    return Deviation(expected, reason)


def outcome_of(call) -> str:
    """Runs `call`; returns its result (a listing outcome), "ok", or the EC2 error code."""
    try:
        result = call()
    except ClientError as err:
        return error_code(err)
    return result if result in (YES, NO) else OK


def listed(items: list[dict], key: str, wanted: str) -> str:
    return YES if any(item[key] == wanted for item in items) else NO


def _expect(code: str, call, *args, **params) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call(*args, **params)
    assert error_code(caught.value) == code, caught.value.response["Error"]
    return caught.value


def start_module_server(tmp_path_factory, name: str, *args: str) -> Server:
    base = tmp_path_factory.mktemp(name)
    accounts = base / "accounts.json"
    accounts.write_text(json.dumps(ACCOUNTS_FILE))
    server = Server(base / "data", base / "logs", ("--accounts", str(accounts), *args))
    server.start()
    return server


@pytest.fixture
def org_server(start_server, tmp_path):
    """A fresh server that knows the organization member (function scope)."""
    accounts = tmp_path / "accounts.json"
    accounts.write_text(json.dumps(ACCOUNTS_FILE))
    return start_server("--accounts", str(accounts))


class Clients:
    """One boto3 client per principal and region, made once."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        self._made: dict[tuple[str, str], object] = {}

    def __call__(self, who: str, region: str = SOURCE_REGION):
        key = (who, region)
        if key not in self._made:
            self._made[key] = make_client(self.endpoint, region, ACCESS_KEYS[who])
        return self._made[key]


def check_cells(table: dict, observed: dict, stage: str) -> list[str]:
    """The cells of one stage whose observed outcome differs from the table (deviations skipped)."""
    wrong = []
    for action, row in table[stage].items():
        for who, expected in zip(PRINCIPALS, row):
            if isinstance(expected, Deviation):
                continue
            got = observed[(stage, action, who)]
            if got != expected:
                wrong.append(f"{stage:>14} | {action:<22} | {who:<8} | expected {expected:<24} got {got}")
    return wrong


def deviation_cells(table: dict, reason: str) -> list[tuple[str, str, str, str]]:
    return [
        (stage, action, who, cell.expected)
        for stage, rows in table.items()
        for action, row in rows.items()
        for who, cell in zip(PRINCIPALS, row)
        if isinstance(cell, Deviation) and cell.reason == reason
    ]


def check_deviations(table: dict, observed: dict, reason: str) -> None:
    cells = deviation_cells(table, reason)
    assert cells, f"no cell is marked with: {reason}"
    wrong = [
        f"{stage} | {action} | {who}: expected {expected}, got {observed[(stage, action, who)]}"
        for stage, action, who, expected in cells
        if observed[(stage, action, who)] != expected
    ]
    assert not wrong, "\n".join(wrong)


# ======================================================================================
# 1. Images: the access matrix
# ======================================================================================

# Calls on the shared image itself (every principal, in the order of PRINCIPALS). The
# calls that change or remove an image (IMAGE_MUTATIONS) go to a spare image that has
# the same grants in the stage, the other principals first and the owner last.
IMAGE_READS = (
    "describe_by_id",
    "list_default",
    "list_owners_filter",
    "list_owners_self",
    "exec_self",
    "exec_all",
    "exec_grantee_id",
    "exec_member_id",
    "is_public_filter",
    "describe_attribute",
    "modify_description",
    "run_instances",
    "copy_image",
)
IMAGE_MUTATIONS = (
    "enable_deprecation",
    "disable_deprecation",
    "enable_protection",
    "disable_protection",
    "disable_image",
    "enable_image",
    "grant_self",
    "reset_attribute",
    "deregister",
)

#                        owner grantee stranger member
_PRIVATE = {
    "describe_by_id":     (OK,  NF,   NF,  NF),
    "list_default":       (YES, NO,   NO,  NO),
    "list_owners_filter": (YES, NO,   NO,  NO),
    "list_owners_self":   (YES, NO,   NO,  NO),
    "exec_self":          (NO,  NO,   NO,  NO),
    "exec_all":           (NO,  NO,   NO,  NO),
    "exec_grantee_id":    (NO,  NO,   NO,  NO),
    "exec_member_id":     (NO,  NO,   NO,  NO),
    "is_public_filter":   (NO,  NO,   NO,  NO),
    "describe_attribute": (OK,  NF,   NF,  NF),
    "modify_description": (OK,  NF,   NF,  NF),
    "run_instances":      (OK,  AUTH,   AUTH,  AUTH),
    "copy_image":         (OK,  NF,   NF,  NF),
    "enable_deprecation": (OK,  NF,   NF,  NF),
    "disable_deprecation": (OK, NF,   NF,  NF),
    "enable_protection":  (OK,  NF,   NF,  NF),
    "disable_protection": (OK,  NF,   NF,  NF),
    "disable_image":      (OK,  NF,   NF,  NF),
    "enable_image":       (OK,  NF,   NF,  NF),
    "grant_self":         (OK,  NF,   NF,  NF),
    "reset_attribute":    (OK,  NF,   NF,  NF),
    "deregister":         (OK,  NF,   NF,  NF),
}  # fmt: skip

_USER = {
    "describe_by_id":     (OK,  OK,   NF,  NF),
    "list_default":       (YES, YES,  NO,  NO),
    "list_owners_filter": (YES, YES,  NO,  NO),
    "list_owners_self":   (YES, NO,   NO,  NO),
    "exec_self":          (NO,  YES,  NO,  NO),
    "exec_all":           (NO,  NO,   NO,  NO),
    "exec_grantee_id":    (YES, YES,  NO,  NO),
    "exec_member_id":     (NO,  NO,   NO,  NO),
    "is_public_filter":   (NO,  NO,   NO,  NO),
    "describe_attribute": (OK,  AUTH, NF,  NF),
    "modify_description": (OK,  AUTH, NF,  NF),
    "run_instances":      (OK,  OK,   AUTH,  AUTH),
    "copy_image":         (OK,  OK,   NF,  NF),
    "enable_deprecation": (OK,  AUTH, NF,  NF),
    "disable_deprecation": (OK, AUTH, NF,  NF),
    "enable_protection":  (OK,  AUTH, NF,  NF),
    "disable_protection": (OK,  AUTH, NF,  NF),
    "disable_image":      (OK,  AUTH, NF,  NF),
    "enable_image":       (OK,  AUTH, NF,  NF),
    "grant_self":         (OK,  AUTH, NF,  NF),
    "reset_attribute":    (OK,  AUTH, NF,  NF),
    "deregister":         (OK,  AUTH, NF,  NF),
}  # fmt: skip


def _organization_stage() -> dict:
    return {
        "describe_by_id":     (OK,  NF,   NF,  OK),
        "list_default":       (YES, NO,   NO,  YES),
        "list_owners_filter": (YES, NO,   NO,  YES),
        "list_owners_self":   (YES, NO,   NO,  NO),
        "exec_self":          (NO,  NO,   NO,  YES),
        "exec_all":           (NO,  NO,   NO,  NO),
        "exec_grantee_id":    (NO,  NO,   NO,  NO),
        # Another account's id: explicit user grants only, so not the owner's answer;
        # the member's own id: like 'self'.
        "exec_member_id":     (NO,  NO,   NO,  YES),
        "is_public_filter":   (NO,  NO,   NO,  NO),
        "describe_attribute": (OK,  NF,   NF,  AUTH),
        "modify_description": (OK,  NF,   NF,  AUTH),
        "run_instances":      (OK,  AUTH,   AUTH,  OK),
        "copy_image":         (OK,  NF,   NF,  OK),
        "enable_deprecation": (OK,  NF,   NF,  AUTH),
        "disable_deprecation": (OK, NF,   NF,  AUTH),
        "enable_protection":  (OK,  NF,   NF,  AUTH),
        "disable_protection": (OK,  NF,   NF,  AUTH),
        "disable_image":      (OK,  NF,   NF,  AUTH),
        "enable_image":       (OK,  NF,   NF,  AUTH),
        "grant_self":         (OK,  NF,   NF,  AUTH),
        "reset_attribute":    (OK,  NF,   NF,  AUTH),
        "deregister":         (OK,  NF,   NF,  AUTH),
    }  # fmt: skip


_PUBLIC = {
    "describe_by_id":     (OK,  OK,   OK,   OK),
    "list_default":       (YES, YES,  YES,  YES),
    "list_owners_filter": (YES, YES,  YES,  YES),
    "list_owners_self":   (YES, NO,   NO,  NO),
    "exec_self":          (NO,  NO,   NO,   NO),
    "exec_all":           (YES, YES,  YES,  YES),
    "exec_grantee_id":    (NO,  NO,   NO,   NO),
    "exec_member_id":     (NO,  NO,   NO,   NO),
    "is_public_filter":   (YES, YES,  YES,  YES),
    "describe_attribute": (OK,  AUTH, AUTH, AUTH),
    "modify_description": (OK,  AUTH, AUTH, AUTH),
    "run_instances":      (OK,  OK,   OK,   OK),
    "copy_image":         (OK,  OK,   OK,   OK),
    "enable_deprecation": (OK,  AUTH, AUTH, AUTH),
    "disable_deprecation": (OK, AUTH, AUTH, AUTH),
    "enable_protection":  (OK,  AUTH, AUTH, AUTH),
    "disable_protection": (OK,  AUTH, AUTH, AUTH),
    "disable_image":      (OK,  AUTH, AUTH, AUTH),
    "enable_image":       (OK,  AUTH, AUTH, AUTH),
    "grant_self":         (OK,  AUTH, AUTH, AUTH),
    "reset_attribute":    (OK,  AUTH, AUTH, AUTH),
    "deregister":         (OK,  AUTH, AUTH, AUTH),
}  # fmt: skip

# The stages, in the order they happen to one image (see `image_stage_setup`).
IMAGE_MATRIX = {
    "private": _PRIVATE,
    "user": _USER,  # UserId=grantee
    "organization": _organization_stage(),  # user grant removed; OrganizationArn added
    "parent-ou": _organization_stage(),  # organization removed; the member's parent OU added
    "revoked": _PRIVATE,  # the OU grant removed
    "public": _PUBLIC,  # Group=all
    "public+bpa": _PUBLIC,  # block public access enabled while public: stays public
    "bpa-refused": _PRIVATE,  # Group=all removed; adding it again refused
    "bpa-user": _USER,  # sharing with an account is still allowed
}

# The launch permissions the owner must see on the image at the end of each stage.
IMAGE_GRANTS = {
    "private": [],
    "user": [{"UserId": GRANTEE}],
    "organization": [{"OrganizationArn": ORG_ARN}],
    "parent-ou": [{"OrganizationalUnitArn": PARENT_OU_ARN}],
    "revoked": [],
    "public": [{"Group": "all"}],
    "public+bpa": [{"Group": "all"}],
    "bpa-refused": [],
    "bpa-user": [{"UserId": GRANTEE}],
}


def _grant(ec2, image_id: str, add=(), remove=()) -> None:
    launch_permission = {}
    if add:
        launch_permission["Add"] = list(add)
    if remove:
        launch_permission["Remove"] = list(remove)
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission=launch_permission)


def image_stage_setup(stage: str, owner, main: str, spare: str, notes: dict) -> None:
    """Brings the main image from the previous stage's grants to this stage's (with
    Add/Remove, as a user would) and gives the fresh spare image the same grants."""
    user, org, everyone = {"UserId": GRANTEE}, {"OrganizationArn": ORG_ARN}, {"Group": "all"}
    ou = {"OrganizationalUnitArn": PARENT_OU_ARN}
    if stage == "private":
        return
    if stage == "user":
        _grant(owner, main, add=[user])
        _grant(owner, spare, add=[user])
    elif stage == "organization":
        _grant(owner, main, add=[org], remove=[user])
        _grant(owner, spare, add=[org])
    elif stage == "parent-ou":
        _grant(owner, main, add=[ou], remove=[org])
        _grant(owner, spare, add=[ou])
    elif stage == "revoked":
        _grant(owner, main, remove=[ou])
        _grant(owner, spare, add=[ou])
        _grant(owner, spare, remove=[ou])
    elif stage == "public":
        _grant(owner, main, add=[everyone])
        _grant(owner, spare, add=[everyone])
    elif stage == "public+bpa":
        _grant(owner, spare, add=[everyone])
        answer = owner.enable_image_block_public_access(ImageBlockPublicAccessState="block-new-sharing")
        notes["enable"] = answer["ImageBlockPublicAccessState"]
        state = owner.get_image_block_public_access_state()
        notes["state"] = (state["ImageBlockPublicAccessState"], state["ManagedBy"])
    elif stage == "bpa-refused":
        _grant(owner, main, remove=[everyone])
        for attempt in ([everyone], [user, everyone]):
            try:
                _grant(owner, main, add=attempt)
                notes.setdefault("refusals", []).append(("accepted", None))
            except ClientError as err:
                notes.setdefault("refusals", []).append((error_code(err), err.response["Error"]["Message"]))
    elif stage == "bpa-user":
        _grant(owner, main, add=[user])
        _grant(owner, spare, add=[user])
    else:
        raise AssertionError(stage)


def image_call(action: str, ec2, ec2_other_region, image_id: str, who: str, stage: str, launched: dict):
    """The call of one matrix action by one principal, as a thunk for `outcome_of`."""
    only = [{"Name": "image-id", "Values": [image_id]}]
    self_or_uninvolved = [{"UserId": UNINVOLVED if who == "owner" else ACCOUNT_OF[who]}]

    def lists(**params):
        return lambda: listed(ec2.describe_images(**params)["Images"], "ImageId", image_id)

    def run_instances():
        reservation = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)
        launched.setdefault(who, []).append(reservation["Instances"][0]["InstanceId"])

    def copy_image():
        copied = ec2_other_region.copy_image(
            SourceImageId=image_id, SourceRegion=SOURCE_REGION, Name=f"copy-{stage.replace('+', '-')}-{who}"
        )
        launched.setdefault(f"{who}-copies", []).append(copied["ImageId"])

    calls = {
        "describe_by_id": lambda: ec2.describe_images(ImageIds=[image_id]),
        "list_default": lists(),
        "list_owners_filter": lists(Owners=[OWNER]),
        "list_owners_self": lists(Owners=["self"]),
        "exec_self": lists(ExecutableUsers=["self"]),
        "exec_all": lists(ExecutableUsers=["all"], Filters=only),
        "exec_grantee_id": lists(ExecutableUsers=[GRANTEE]),
        "exec_member_id": lists(ExecutableUsers=[MEMBER]),
        "is_public_filter": lists(Filters=[{"Name": "is-public", "Values": ["true"]}]),
        "describe_attribute": lambda: ec2.describe_image_attribute(ImageId=image_id, Attribute="launchPermission"),
        "modify_description": lambda: ec2.modify_image_attribute(
            ImageId=image_id, Description={"Value": f"set by {who} in {stage}"}
        ),
        "run_instances": run_instances,
        "copy_image": copy_image,
        "enable_deprecation": lambda: ec2.enable_image_deprecation(
            ImageId=image_id, DeprecateAt=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 30 * 86400))
        ),
        "disable_deprecation": lambda: ec2.disable_image_deprecation(ImageId=image_id),
        "enable_protection": lambda: ec2.enable_image_deregistration_protection(ImageId=image_id),
        "disable_protection": lambda: ec2.disable_image_deregistration_protection(ImageId=image_id),
        "disable_image": lambda: ec2.disable_image(ImageId=image_id),
        # Others try to grant themselves launch permission; the owner grants an uninvolved account.
        "grant_self": lambda: _grant(ec2, image_id, add=self_or_uninvolved),
        "enable_image": lambda: ec2.enable_image(ImageId=image_id),
        "reset_attribute": lambda: ec2.reset_image_attribute(ImageId=image_id, Attribute="launchPermission"),
        "deregister": lambda: ec2.deregister_image(ImageId=image_id),
    }
    return calls[action]


@dataclass
class MatrixRun:
    observed: dict = field(default_factory=dict)
    integrity: dict = field(default_factory=dict)  # stage -> (what, expected, actual) mismatches
    notes: dict = field(default_factory=dict)  # stage -> setup observations
    launched: dict = field(default_factory=dict)  # principal -> instance ids / copies
    extra: dict = field(default_factory=dict)


def _grant_set(permissions: list[dict]) -> list[tuple]:
    return sorted(tuple(sorted(p.items())) for p in permissions)


@pytest.fixture(scope="module")
def image_matrix(tmp_path_factory) -> MatrixRun:
    server = start_module_server(tmp_path_factory, "image-matrix")
    try:
        yield run_image_matrix(Clients(server.url))
    finally:
        server.stop()


def run_image_matrix(c: Clients) -> MatrixRun:
    run = MatrixRun()
    owner = c("owner")
    snapshot = make_snapshot(owner)
    main = register(owner, "shared-golden", snapshot, Description="original")
    [image] = owner.describe_images(ImageIds=[main])["Images"]
    assert image["OwnerId"] == OWNER, "a 12-digit access key must act as that account"
    for stage in IMAGE_MATRIX:
        spare = register(owner, f"spare-{stage.replace('+', '-')}", snapshot)
        notes = run.notes.setdefault(stage, {})
        image_stage_setup(stage, owner, main, spare, notes)
        for action in IMAGE_READS:
            for who in PRINCIPALS:
                call = image_call(action, c(who), c(who, OTHER_REGION), main, who, stage, run.launched)
                run.observed[(stage, action, who)] = outcome_of(call)
        for who in ("grantee", "stranger", "member", "owner"):
            for action in IMAGE_MUTATIONS:
                call = image_call(action, c(who), c(who, OTHER_REGION), spare, who, stage, run.launched)
                run.observed[(stage, action, who)] = outcome_of(call)
        # What the owner sees afterwards: the stage's grants, its own description, and
        # nothing a refused call may have changed.
        permissions = owner.describe_image_attribute(ImageId=main, Attribute="launchPermission")["LaunchPermissions"]
        [now] = owner.describe_images(ImageIds=[main])["Images"]
        mismatches = []
        if _grant_set(permissions) != _grant_set(IMAGE_GRANTS[stage]):
            mismatches.append(("launch permissions", IMAGE_GRANTS[stage], permissions))
        if now.get("Description") != f"set by owner in {stage}":
            mismatches.append(("description", f"set by owner in {stage}", now.get("Description")))
        if now["Public"] != (stage in ("public", "public+bpa")):
            mismatches.append(("Public", stage in ("public", "public+bpa"), now["Public"]))
        run.integrity[stage] = mismatches
    # Instances launched while allowed keep running after every revocation.
    run.extra["instance_states"] = {
        who: [
            i["State"]["Name"]
            for r in c(who).describe_instances(InstanceIds=ids)["Reservations"]
            for i in r["Instances"]
        ]
        for who, ids in run.launched.items()
        if not who.endswith("-copies")
    }
    # The copies made while allowed belong to their makers and stay usable.
    run.extra["copies"] = {
        who.removesuffix("-copies"): [
            (i["OwnerId"], i["State"], i.get("SourceImageId"), i["Public"])
            for i in c(who.removesuffix("-copies"), OTHER_REGION).describe_images(ImageIds=ids)["Images"]
        ]
        for who, ids in run.launched.items()
        if who.endswith("-copies")
    }
    return run


@pytest.mark.parametrize("stage", list(IMAGE_MATRIX))
def test_image_access_matrix(image_matrix, stage):
    wrong = check_cells(IMAGE_MATRIX, image_matrix.observed, stage)
    assert not wrong, "cells that differ from EC2:\n" + "\n".join(wrong)
    assert not image_matrix.integrity[stage], image_matrix.integrity[stage]


def test_image_matrix_setup_answers(image_matrix):
    notes = image_matrix.notes
    assert notes["public+bpa"]["enable"] == "block-new-sharing"
    assert notes["public+bpa"]["state"] == ("block-new-sharing", "account")
    # Group=all alone, and Group=all with a user grant in the same call: both refused,
    # with EC2's message; the user grant of the refused call is not applied either.
    assert notes["bpa-refused"]["refusals"] == [("OperationNotPermitted", IMAGE_BPA_MESSAGE)] * 2


def test_image_matrix_launched_instances_outlive_revocation(image_matrix):
    states = image_matrix.extra["instance_states"]
    # owner: every stage; grantee: user, public x2, bpa-user; member: org, OU, public x2;
    # stranger: public x2.
    assert {who: len(s) for who, s in states.items()} == {"owner": 9, "grantee": 4, "member": 4, "stranger": 2}
    assert all(state == "running" for s in states.values() for state in s), states
    copies = image_matrix.extra["copies"]
    assert {who: len(c) for who, c in copies.items()} == {"owner": 9, "grantee": 4, "member": 4, "stranger": 2}
    for who, found in copies.items():
        for owner_id, state, source, public in found:
            assert (owner_id, state, public) == (ACCOUNT_OF[who], "available", False)
            assert source and source.startswith("ami-")


def test_organization_grants_reach_members_only(org_server):
    c = Clients(org_server.url)
    owner, member = c("owner"), c("member")
    # The member's access key acts as its account.
    own = register(member, "member-own-image", make_snapshot(member))
    assert member.describe_images(ImageIds=[own])["Images"][0]["OwnerId"] == MEMBER
    image_id = register(owner, "org-scoped", make_snapshot(owner))
    elsewhere = [
        {"OrganizationArn": f"arn:aws:organizations::{OWNER}:organization/o-zzzzzzzzzz"},  # another organization
        {"OrganizationalUnitArn": f"arn:aws:organizations::{OWNER}:ou/{ORG_ID}/ou-ab12-zzzzzz99"},  # a sibling OU
        {"OrganizationArn": f"arn:aws:organizations::{STRANGER}:organization/{ORG_ID}"},  # another management account
    ]
    _grant(owner, image_id, add=elsewhere)
    for who in ("grantee", "stranger", "member"):
        _expect("InvalidAMIID.NotFound", c(who).describe_images, ImageIds=[image_id])
        _expect("AuthFailure", c(who).run_instances, ImageId=image_id, MinCount=1, MaxCount=1)
        assert c(who).describe_images(ExecutableUsers=["self"])["Images"] == []
    # The member's own OU (the child) reaches it; nobody else.
    _grant(owner, image_id, add=[{"OrganizationalUnitArn": f"arn:aws:organizations::{OWNER}:ou/{ORG_ID}/{CHILD_OU}"}])
    assert [i["ImageId"] for i in member.describe_images(ExecutableUsers=["self"])["Images"]] == [image_id]
    member.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)
    for who in ("grantee", "stranger"):
        _expect("InvalidAMIID.NotFound", c(who).describe_images, ImageIds=[image_id])
    # Malformed organization ARNs are refused, as EC2 does.
    for bad in ({"OrganizationArn": "o-abcdefghij"}, {"OrganizationalUnitArn": PARENT_OU}):
        _expect("InvalidAMIAttributeItemValue", _grant, owner, image_id, add=[bad])


def test_image_block_public_access_is_per_account_and_region(org_server):
    c = Clients(org_server.url)
    owner, owner_west, stranger = c("owner"), c("owner", OTHER_REGION), c("stranger")
    assert owner.get_image_block_public_access_state()["ImageBlockPublicAccessState"] == "unblocked"
    assert owner.enable_image_block_public_access(ImageBlockPublicAccessState="block-new-sharing")[
        "ImageBlockPublicAccessState"
    ] == "block-new-sharing"
    with pytest.raises(ClientError) as caught:
        owner.enable_image_block_public_access(ImageBlockPublicAccessState="block-all-sharing")
    assert error_code(caught.value) == "InvalidParameterValue"

    east = register(owner, "east-image", make_snapshot(owner))
    with pytest.raises(ClientError) as caught:
        _grant(owner, east, add=[{"Group": "all"}])
    assert (error_code(caught.value), caught.value.response["Error"]["Message"]) == (
        "OperationNotPermitted",
        IMAGE_BPA_MESSAGE,
    )
    # Sharing with accounts and organizations stays allowed.
    _grant(owner, east, add=[{"UserId": GRANTEE}, {"OrganizationArn": ORG_ARN}])

    # Another region of the same account is not blocked ...
    assert owner_west.get_image_block_public_access_state()["ImageBlockPublicAccessState"] == "unblocked"
    west = register(owner_west, "west-image", make_snapshot(owner_west))
    _grant(owner_west, west, add=[{"Group": "all"}])
    assert c("stranger", OTHER_REGION).describe_images(ImageIds=[west])["Images"][0]["Public"] is True
    # ... nor another account in the same region.
    assert stranger.get_image_block_public_access_state()["ImageBlockPublicAccessState"] == "unblocked"
    theirs = register(stranger, "stranger-image", make_snapshot(stranger))
    _grant(stranger, theirs, add=[{"Group": "all"}])

    assert owner.disable_image_block_public_access()["ImageBlockPublicAccessState"] == "unblocked"
    assert owner.get_image_block_public_access_state() | {"ResponseMetadata": None} == {
        "ImageBlockPublicAccessState": "unblocked",
        "ManagedBy": "account",
        "ResponseMetadata": None,
    }
    _grant(owner, east, add=[{"Group": "all"}])
    [seen] = stranger.describe_images(ImageIds=[east])["Images"]
    assert seen["Public"] is True


# ======================================================================================
# 2. Snapshots: the access matrix
# ======================================================================================

SNAPSHOT_READS = (
    "describe_by_id",
    "list_default",
    "list_owner_filter",
    "restorable_self",
    "restorable_all",
    "restorable_grantee_id",
    "describe_attribute",
    "create_volume",
    "copy_snapshot",
)
SNAPSHOT_MUTATIONS = ("modify_attribute", "reset_attribute", "delete_snapshot")

#                           owner grantee  stranger member
_S_PRIVATE = {
    "describe_by_id":        (OK,  SNF,    SNF,    SNF),
    "list_default":          (YES, NO,     NO,     NO),
    "list_owner_filter":     (YES, NO,     NO,     NO),
    "restorable_self":       (YES, NO,     NO,     NO),
    "restorable_all":        (NO,  NO,     NO,     NO),
    "restorable_grantee_id": (NO,  NO,     NO,     NO),
    "describe_attribute":    (OK,  SNF,    SNF,    SNF),
    "create_volume":         (OK,  SNF,    SNF,    SNF),
    "copy_snapshot":         (OK,  SNF,    SNF,    SNF),
    "modify_attribute":      (OK,  SNF,    SNF,    SNF),
    "reset_attribute":       (OK,  SNF,    SNF,    SNF),
    "delete_snapshot":       (OK,  SNF,    SNF,    SNF),
}  # fmt: skip

_S_USER = {
    "describe_by_id":        (OK,  OK,     SNF,    SNF),
    "list_default":          (YES, YES,    NO,     NO),
    "list_owner_filter":     (YES, YES,    NO,     NO),
    "restorable_self":       (YES, YES,    NO,     NO),
    "restorable_all":        (NO,  NO,     NO,     NO),
    "restorable_grantee_id": (YES, YES,    NO,     NO),
    "describe_attribute":    (OK,  UNAUTH, SNF,    SNF),
    "create_volume":         (OK,  OK,     SNF,    SNF),
    "copy_snapshot":         (OK,  OK,     SNF,    SNF),
    "modify_attribute":      (OK,  UNAUTH, SNF,    SNF),
    "reset_attribute":       (OK,  UNAUTH, SNF,    SNF),
    "delete_snapshot":       (OK,  UNAUTH, SNF,    SNF),
}  # fmt: skip

_S_PUBLIC = {
    "describe_by_id":        (OK,  OK,     OK,     OK),
    "list_default":          (YES, YES,    YES,    YES),
    "list_owner_filter":     (YES, YES,    YES,    YES),
    "restorable_self":       (YES, NO,     NO,     NO),
    "restorable_all":        (YES, YES,    YES,    YES),
    "restorable_grantee_id": (NO,  NO,     NO,     NO),
    "describe_attribute":    (OK,  UNAUTH, UNAUTH, UNAUTH),
    "create_volume":         (OK,  OK,     OK,     OK),
    "copy_snapshot":         (OK,  OK,     OK,     OK),
    "modify_attribute":      (OK,  UNAUTH, UNAUTH, UNAUTH),
    "reset_attribute":       (OK,  UNAUTH, UNAUTH, UNAUTH),
    "delete_snapshot":       (OK,  UNAUTH, UNAUTH, UNAUTH),
}  # fmt: skip


def _blocked(expected: str) -> str:
    """A cell that block-all-sharing changes for other accounts (once a known deviation)."""
    return expected


# A public snapshot once its owner blocks all sharing: private to everyone else. The
# owner's own view is its view of a public snapshot (it still holds the Group=all
# permission; EC2 documents no change for the owner).
_S_PUBLIC_BLOCK_ALL = {
    "describe_by_id":        (OK,  _blocked(SNF),    _blocked(SNF),    _blocked(SNF)),
    "list_default":          (YES, _blocked(NO),     _blocked(NO),     _blocked(NO)),
    "list_owner_filter":     (YES, _blocked(NO),     _blocked(NO),     _blocked(NO)),
    "restorable_self":       (YES, NO,               NO,               NO),
    "restorable_all":        (YES, _blocked(NO),     _blocked(NO),     _blocked(NO)),
    "restorable_grantee_id": (NO,  NO,               NO,               NO),
    "describe_attribute":    (OK,  _blocked(SNF),    _blocked(SNF),    _blocked(SNF)),
    "create_volume":         (OK,  _blocked(SNF),    _blocked(SNF),    _blocked(SNF)),
    "copy_snapshot":         (OK,  _blocked(SNF),    _blocked(SNF),    _blocked(SNF)),
    "modify_attribute":      (OK,  _blocked(SNF),    _blocked(SNF),    _blocked(SNF)),
    "reset_attribute":       (OK,  _blocked(SNF),    _blocked(SNF),    _blocked(SNF)),
    "delete_snapshot":       (OK,  _blocked(SNF),    _blocked(SNF),    _blocked(SNF)),
}  # fmt: skip

SNAPSHOT_MATRIX = {
    "private": _S_PRIVATE,
    "user": _S_USER,  # UserId=grantee
    "revoked": _S_PRIVATE,  # the user grant removed
    "public": _S_PUBLIC,  # Group=all
    "public+block-new": _S_PUBLIC,  # block-new-sharing while public: stays public
    "public+block-all": _S_PUBLIC_BLOCK_ALL,  # block-all-sharing while public
    "block-all-refused": _S_PRIVATE,  # Group=all removed; adding it again refused
    "block-all-user": _S_USER,  # sharing with an account is still allowed
}

SNAPSHOT_GRANTS = {
    "private": [],
    "user": [{"UserId": GRANTEE}],
    "revoked": [],
    "public": [{"Group": "all"}],
    "public+block-new": [{"Group": "all"}],
    "public+block-all": [{"Group": "all"}],
    "block-all-refused": [],
    "block-all-user": [{"UserId": GRANTEE}],
}


def _share(ec2, snapshot_id: str, add=(), remove=()) -> None:
    permission = {}
    if add:
        permission["Add"] = list(add)
    if remove:
        permission["Remove"] = list(remove)
    ec2.modify_snapshot_attribute(SnapshotId=snapshot_id, CreateVolumePermission=permission)


def _refusal(call) -> tuple[str, str] | str:
    try:
        call()
    except ClientError as err:
        return error_code(err), err.response["Error"]["Message"]
    return "accepted"


def snapshot_stage_setup(stage: str, owner, main: str, spare: str, notes: dict) -> None:
    user, everyone = {"UserId": GRANTEE}, {"Group": "all"}
    if stage == "private":
        return
    if stage == "user":
        _share(owner, main, add=[user])
        _share(owner, spare, add=[user])
    elif stage == "revoked":
        _share(owner, main, remove=[user])
        _share(owner, spare, add=[user])
        _share(owner, spare, remove=[user])
    elif stage == "public":
        _share(owner, main, add=[everyone])
        _share(owner, spare, add=[everyone])
    elif stage == "public+block-new":
        _share(owner, spare, add=[everyone])
        notes["enable"] = owner.enable_snapshot_block_public_access(State="block-new-sharing")["State"]
        state = owner.get_snapshot_block_public_access_state()
        notes["state"] = (state["State"], state.get("ManagedBy"))
        fresh = make_snapshot(owner)
        notes["refusal"] = _refusal(lambda: _share(owner, fresh, add=[everyone]))
        notes["fresh_grants"] = owner.describe_snapshot_attribute(
            SnapshotId=fresh, Attribute="createVolumePermission"
        )["CreateVolumePermissions"]
    elif stage == "public+block-all":
        owner.disable_snapshot_block_public_access()
        _share(owner, spare, add=[everyone])
        notes["enable"] = owner.enable_snapshot_block_public_access(State="block-all-sharing")["State"]
        notes["state"] = owner.get_snapshot_block_public_access_state()["State"]
    elif stage == "block-all-refused":
        _share(owner, main, remove=[everyone])
        notes["refusal"] = _refusal(lambda: _share(owner, main, add=[everyone]))
    elif stage == "block-all-user":
        _share(owner, main, add=[user])
        _share(owner, spare, add=[user])
    else:
        raise AssertionError(stage)


def snapshot_call(action: str, ec2, ec2_other_region, snapshot_id: str, who: str):
    def restorable(by: str):
        return listed(ec2.describe_snapshots(RestorableByUserIds=[by])["Snapshots"], "SnapshotId", snapshot_id)

    calls = {
        "describe_by_id": lambda: ec2.describe_snapshots(SnapshotIds=[snapshot_id]),
        "list_default": lambda: listed(ec2.describe_snapshots()["Snapshots"], "SnapshotId", snapshot_id),
        "list_owner_filter": lambda: listed(
            ec2.describe_snapshots(OwnerIds=[OWNER])["Snapshots"], "SnapshotId", snapshot_id
        ),
        "restorable_self": lambda: restorable("self"),
        "restorable_all": lambda: restorable("all"),
        "restorable_grantee_id": lambda: restorable(GRANTEE),
        "describe_attribute": lambda: ec2.describe_snapshot_attribute(
            SnapshotId=snapshot_id, Attribute="createVolumePermission"
        ),
        "create_volume": lambda: ec2.create_volume(SnapshotId=snapshot_id, AvailabilityZone="us-east-1a"),
        "copy_snapshot": lambda: ec2_other_region.copy_snapshot(
            SourceSnapshotId=snapshot_id, SourceRegion=SOURCE_REGION
        ),
        # Others try to grant themselves; the owner grants an uninvolved account.
        "modify_attribute": lambda: _share(
            ec2, snapshot_id, add=[{"UserId": UNINVOLVED if who == "owner" else ACCOUNT_OF[who]}]
        ),
        "reset_attribute": lambda: ec2.reset_snapshot_attribute(
            SnapshotId=snapshot_id, Attribute="createVolumePermission"
        ),
        "delete_snapshot": lambda: ec2.delete_snapshot(SnapshotId=snapshot_id),
    }
    return calls[action]


@pytest.fixture(scope="module")
def snapshot_matrix(tmp_path_factory) -> MatrixRun:
    server = start_module_server(tmp_path_factory, "snapshot-matrix")
    try:
        yield run_snapshot_matrix(Clients(server.url))
    finally:
        server.stop()


def run_snapshot_matrix(c: Clients) -> MatrixRun:
    run = MatrixRun()
    owner = c("owner")
    main = make_snapshot(owner)
    for stage in SNAPSHOT_MATRIX:
        spare = make_snapshot(owner)
        notes = run.notes.setdefault(stage, {})
        snapshot_stage_setup(stage, owner, main, spare, notes)
        for action in SNAPSHOT_READS:
            for who in PRINCIPALS:
                call = snapshot_call(action, c(who), c(who, OTHER_REGION), main, who)
                run.observed[(stage, action, who)] = outcome_of(call)
        for who in ("grantee", "stranger", "member", "owner"):
            for action in SNAPSHOT_MUTATIONS:
                call = snapshot_call(action, c(who), c(who, OTHER_REGION), spare, who)
                run.observed[(stage, action, who)] = outcome_of(call)
        permissions = owner.describe_snapshot_attribute(SnapshotId=main, Attribute="createVolumePermission")[
            "CreateVolumePermissions"
        ]
        run.integrity[stage] = (
            []
            if _grant_set(permissions) == _grant_set(SNAPSHOT_GRANTS[stage])
            else [("create volume permissions", SNAPSHOT_GRANTS[stage], permissions)]
        )
    # The volumes and copies each principal made belong to it.
    run.extra["volume_owners"] = {
        who: {v["SnapshotId"] for v in c(who).describe_volumes()["Volumes"]} for who in PRINCIPALS
    }
    run.extra["copies"] = {
        who: [
            (s["OwnerId"], s["State"])
            for s in c(who, OTHER_REGION).describe_snapshots(OwnerIds=["self"])["Snapshots"]
        ]
        for who in PRINCIPALS
    }
    run.extra["main"] = main
    return run


@pytest.mark.parametrize("stage", list(SNAPSHOT_MATRIX))
def test_snapshot_access_matrix(snapshot_matrix, stage):
    wrong = check_cells(SNAPSHOT_MATRIX, snapshot_matrix.observed, stage)
    assert not wrong, "cells that differ from EC2:\n" + "\n".join(wrong)
    assert not snapshot_matrix.integrity[stage], snapshot_matrix.integrity[stage]


def test_snapshot_matrix_setup_answers(snapshot_matrix):
    notes = snapshot_matrix.notes
    message = (
        "You can't publicly share this snapshot because block public access for snapshots is enabled for this "
        "account. To publicly share the snapshot, you must call the DisableSnapshotBlockPublicAccess API."
    )
    assert notes["public+block-new"]["enable"] == "block-new-sharing"
    assert notes["public+block-new"]["state"] == ("block-new-sharing", "account")
    assert notes["public+block-new"]["refusal"] == ("OperationNotPermitted", message)
    assert notes["public+block-new"]["fresh_grants"] == []
    assert (notes["public+block-all"]["enable"], notes["public+block-all"]["state"]) == ("block-all-sharing",) * 2
    assert notes["block-all-refused"]["refusal"] == ("OperationNotPermitted", message)


def test_snapshot_matrix_volumes_and_copies_belong_to_their_makers(snapshot_matrix):
    main = snapshot_matrix.extra["main"]
    volumes = snapshot_matrix.extra["volume_owners"]
    assert main in volumes["owner"] and main in volumes["grantee"]
    copies = snapshot_matrix.extra["copies"]
    # One copy by the owner in each of the 8 stages; the others' copies are theirs too.
    assert len(copies["owner"]) == 8
    assert len(copies["grantee"]) >= 4  # user, public, public+block-new, block-all-user
    assert all(c == (ACCOUNT_OF[who], "completed") for who, found in copies.items() for c in found), copies


def test_snapshot_block_public_access_is_per_account_and_region(org_server):
    c = Clients(org_server.url)
    owner, owner_west, stranger = c("owner"), c("owner", OTHER_REGION), c("stranger")
    assert owner.get_snapshot_block_public_access_state()["State"] == "unblocked"
    with pytest.raises(ClientError) as caught:
        owner.enable_snapshot_block_public_access(State="block-everything")
    assert error_code(caught.value) == "InvalidParameterValue"
    assert owner.enable_snapshot_block_public_access(State="block-all-sharing")["State"] == "block-all-sharing"
    east = make_snapshot(owner)
    with pytest.raises(ClientError) as caught:
        _share(owner, east, add=[{"Group": "all"}])
    assert error_code(caught.value) == "OperationNotPermitted"
    _share(owner, east, add=[{"UserId": GRANTEE}])

    assert owner_west.get_snapshot_block_public_access_state()["State"] == "unblocked"
    west = make_snapshot(owner_west)
    _share(owner_west, west, add=[{"Group": "all"}])
    assert c("stranger", OTHER_REGION).describe_snapshots(SnapshotIds=[west])["Snapshots"][0]["OwnerId"] == OWNER
    theirs = make_snapshot(stranger)
    _share(stranger, theirs, add=[{"Group": "all"}])

    assert owner.disable_snapshot_block_public_access()["State"] == "unblocked"
    assert owner.get_snapshot_block_public_access_state()["State"] == "unblocked"
    _share(owner, east, add=[{"Group": "all"}])
    assert stranger.describe_snapshots(SnapshotIds=[east])["Snapshots"][0]["SnapshotId"] == east


# ======================================================================================
# 3. aws-cli: share, find, launch, copy, publish, revoke
# ======================================================================================


def test_cli_sharing_story(aws, client_factory):
    A, B, C = OWNER, GRANTEE, STRANGER
    setup = client_factory(access_key=A)
    image_id = register(setup, "cli-shared-image", make_snapshot(setup), Description="shared by A")

    def cli_error(rc_out, code):
        rc, out = rc_out
        assert rc == 255 and f"({code})" in out, (rc, out)

    # A shares the image with B.
    assert aws.ok(
        "modify-image-attribute", "--image-id", image_id, "--launch-permission", f"Add=[{{UserId={B}}}]", access_key=A
    ) is None
    attribute = aws.ok(
        "describe-image-attribute", "--image-id", image_id, "--attribute", "launchPermission", access_key=A
    )
    assert attribute["LaunchPermissions"] == [{"UserId": B}]
    # B finds it among the images it may execute; C does not.
    found = aws.ok("describe-images", "--executable-users", "self", access_key=B)["Images"]
    assert [(i["ImageId"], i["OwnerId"], i["Public"]) for i in found] == [(image_id, A, False)]
    assert aws.ok("describe-images", "--executable-users", "self", access_key=C)["Images"] == []
    cli_error(aws("describe-images", "--image-ids", image_id, access_key=C), "InvalidAMIID.NotFound")

    # B launches it and copies it into us-west-2 as its own.
    instance_id = aws.ok("run-instances", "--image-id", image_id, "--count", "1", access_key=B)["Instances"][0][
        "InstanceId"
    ]
    copy_id = aws.ok(
        "copy-image", "--source-region", SOURCE_REGION, "--source-image-id", image_id, "--name", "b-own-copy",
        region=OTHER_REGION, access_key=B,
    )["ImageId"]  # fmt: skip
    assert copy_id != image_id
    [copy] = aws.ok("describe-images", "--image-ids", copy_id, region=OTHER_REGION, access_key=B)["Images"]
    assert (copy["OwnerId"], copy["SourceImageId"], copy["SourceImageRegion"], copy["Name"]) == (
        B, image_id, SOURCE_REGION, "b-own-copy",
    )  # fmt: skip
    assert copy["State"] in ("pending", "available")
    cli_error(
        aws("describe-images", "--image-ids", copy_id, region=OTHER_REGION, access_key=A), "InvalidAMIID.NotFound"
    )

    # A makes it public: C finds it with the is-public filter.
    aws.ok("modify-image-attribute", "--image-id", image_id, "--launch-permission", "Add=[{Group=all}]", access_key=A)
    public = aws.ok("describe-images", "--filters", "Name=is-public,Values=true", access_key=C)["Images"]
    assert image_id in [i["ImageId"] for i in public]
    [seen] = [i for i in public if i["ImageId"] == image_id]
    assert (seen["OwnerId"], seen["Public"]) == (A, True)

    # A revokes both grants at once: B can no longer see or launch it, C no longer finds it.
    aws.ok(
        "modify-image-attribute", "--image-id", image_id, "--launch-permission",
        f"Remove=[{{Group=all}},{{UserId={B}}}]", access_key=A,
    )  # fmt: skip
    attribute = aws.ok(
        "describe-image-attribute", "--image-id", image_id, "--attribute", "launchPermission", access_key=A
    )
    assert attribute["LaunchPermissions"] == []
    cli_error(aws("run-instances", "--image-id", image_id, "--count", "1", access_key=B), "AuthFailure")
    cli_error(aws("describe-images", "--image-ids", image_id, access_key=B), "InvalidAMIID.NotFound")
    assert aws.ok("describe-images", "--executable-users", "self", access_key=B)["Images"] == []
    public = aws.ok("describe-images", "--filters", "Name=is-public,Values=true", access_key=C)["Images"]
    assert image_id not in [i["ImageId"] for i in public]

    # B's copy lives on in us-west-2 and launches; B's instance is still running.
    [copy] = aws.ok("describe-images", "--image-ids", copy_id, region=OTHER_REGION, access_key=B)["Images"]
    assert (copy["OwnerId"], copy["State"]) == (B, "available")
    launched = aws.ok("run-instances", "--image-id", copy_id, "--count", "1", region=OTHER_REGION, access_key=B)
    assert launched["Instances"][0]["ImageId"] == copy_id
    reservations = aws.ok("describe-instances", "--instance-ids", instance_id, access_key=B)["Reservations"]
    [instance] = reservations[0]["Instances"]
    assert (instance["ImageId"], instance["State"]["Name"]) == (image_id, "running")


# ======================================================================================
# 4. CopyImage details
# ======================================================================================


def _tags(items) -> dict:
    return {t["Key"]: t["Value"] for t in items or []}


def test_copy_image_result(org_server):
    c = Clients(org_server.url)
    owner, west = c("owner"), c("owner", OTHER_REGION)
    snapshot = make_snapshot(owner, size=12)
    source = register(owner, "copy-source", snapshot, Description="the source")
    copy_id = west.copy_image(
        SourceImageId=source, SourceRegion=SOURCE_REGION, Name="copied", Description="the copy"
    )["ImageId"]
    west.get_waiter("image_available").wait(ImageIds=[copy_id], WaiterConfig=WAITER)
    [copy] = west.describe_images(ImageIds=[copy_id])["Images"]
    assert (copy["OwnerId"], copy["Name"], copy["Description"], copy["State"], copy["Public"]) == (
        OWNER, "copied", "the copy", "available", False,
    )  # fmt: skip
    assert (copy["SourceImageId"], copy["SourceImageRegion"]) == (source, SOURCE_REGION)
    assert (copy["Architecture"], copy["RootDeviceName"], copy["VirtualizationType"]) == ("x86_64", "/dev/xvda", "hvm")
    [mapping] = copy["BlockDeviceMappings"]
    new_snapshot = mapping["Ebs"]["SnapshotId"]
    assert new_snapshot != snapshot
    [snap] = west.describe_snapshots(SnapshotIds=[new_snapshot])["Snapshots"]
    assert (snap["OwnerId"], snap["VolumeSize"], snap["State"]) == (OWNER, 12, "completed")
    assert snap["Description"].startswith(
        f"Copied for DestinationAmi {copy_id} from SourceAmi {source} for SourceSnapshot {snapshot}"
    ), snap["Description"]
    # Regions are separate worlds: neither id exists in the other region.
    _expect("InvalidAMIID.NotFound", owner.describe_images, ImageIds=[copy_id])
    _expect("InvalidAMIID.NotFound", west.describe_images, ImageIds=[source])
    _expect("InvalidSnapshot.NotFound", owner.describe_snapshots, SnapshotIds=[new_snapshot])
    # A copy within the same region is allowed too.
    same = owner.copy_image(SourceImageId=source, SourceRegion=SOURCE_REGION, Name="copied-here")["ImageId"]
    assert owner.describe_images(ImageIds=[same])["Images"][0]["SourceImageRegion"] == SOURCE_REGION


def test_copy_image_launch_permissions_are_not_copied(org_server):
    c = Clients(org_server.url)
    owner = c("owner")
    source = register(owner, "widely-shared", make_snapshot(owner))
    _grant(owner, source, add=[{"UserId": GRANTEE}, {"OrganizationArn": ORG_ARN}, {"Group": "all"}])
    for who in ("owner", "grantee", "member", "stranger"):
        copy_id = c(who, OTHER_REGION).copy_image(
            SourceImageId=source, SourceRegion=SOURCE_REGION, Name=f"copy-of-{who}"
        )["ImageId"]
        [copy] = c(who, OTHER_REGION).describe_images(ImageIds=[copy_id])["Images"]
        assert (copy["OwnerId"], copy["Public"]) == (ACCOUNT_OF[who], False)
        attribute = c(who, OTHER_REGION).describe_image_attribute(ImageId=copy_id, Attribute="launchPermission")
        assert attribute["LaunchPermissions"] == []
        for other in PRINCIPALS:
            if other != who:
                _expect("InvalidAMIID.NotFound", c(other, OTHER_REGION).describe_images, ImageIds=[copy_id])
                _expect(
                    "AuthFailure",
                    c(other, OTHER_REGION).run_instances,
                    ImageId=copy_id, MinCount=1, MaxCount=1,
                )  # fmt: skip


def test_copy_image_client_token_is_idempotent(org_server):
    c = Clients(org_server.url)
    owner, grantee_west = c("owner"), c("grantee", OTHER_REGION)
    source = register(owner, "token-source", make_snapshot(owner))
    _grant(owner, source, add=[{"UserId": GRANTEE}])
    params = dict(SourceImageId=source, SourceRegion=SOURCE_REGION, Name="token-copy", ClientToken="copy-token-1")
    first = grantee_west.copy_image(**params)["ImageId"]
    again = grantee_west.copy_image(**params)["ImageId"]
    assert again == first
    mine = grantee_west.describe_images(Owners=["self"])["Images"]
    assert [i["ImageId"] for i in mine] == [first]
    assert len(grantee_west.describe_snapshots(OwnerIds=["self"])["Snapshots"]) == 1
    _expect("IdempotentParameterMismatch", grantee_west.copy_image, **(params | {"Name": "other-name"}))
    # Another token is another copy (with another name).
    other = grantee_west.copy_image(**(params | {"ClientToken": "copy-token-2", "Name": "token-copy-2"}))["ImageId"]
    assert other != first
    # A token belongs to its account: the same token from another account is a new copy.
    owner_copy = c("owner", OTHER_REGION).copy_image(**params)["ImageId"]
    assert owner_copy not in (first, other)


def test_copy_image_tags(org_server):
    c = Clients(org_server.url)
    owner, grantee = c("owner"), c("grantee")
    source = register(owner, "tagged-source", make_snapshot(owner))
    owner.create_tags(Resources=[source], Tags=[{"Key": "team", "Value": "owners"}])
    _grant(owner, source, add=[{"UserId": GRANTEE}])
    # The grantee tags the shared image in its own account (tags are per account).
    grantee.create_tags(Resources=[source], Tags=[{"Key": "mine", "Value": "grantee"}])
    assert _tags(grantee.describe_images(ImageIds=[source])["Images"][0].get("Tags")) == {"mine": "grantee"}
    assert _tags(owner.describe_images(ImageIds=[source])["Images"][0].get("Tags")) == {"team": "owners"}

    def copy(who: str, name: str, **extra) -> tuple[dict, dict]:
        west = c(who, OTHER_REGION)
        copy_id = west.copy_image(SourceImageId=source, SourceRegion=SOURCE_REGION, Name=name, **extra)["ImageId"]
        [image] = west.describe_images(ImageIds=[copy_id])["Images"]
        snapshot_id = image["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
        [snapshot] = west.describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"]
        return _tags(image.get("Tags")), _tags(snapshot.get("Tags"))

    assert copy("owner", "owner-with-tags", CopyImageTags=True) == ({"team": "owners"}, {})
    assert copy("owner", "owner-without-tags") == ({}, {})
    # Only the caller's own tags are copied, never the owner's.
    assert copy("grantee", "grantee-with-tags", CopyImageTags=True) == ({"mine": "grantee"}, {})
    assert copy("grantee", "grantee-without-tags", CopyImageTags=False) == ({}, {})
    spec = [
        {"ResourceType": "image", "Tags": [{"Key": "copy", "Value": "image"}]},
        {"ResourceType": "snapshot", "Tags": [{"Key": "copy", "Value": "snapshot"}]},
    ]
    assert copy("grantee", "grantee-spec", TagSpecifications=spec) == ({"copy": "image"}, {"copy": "snapshot"})
    assert copy("owner", "owner-spec-and-copy", TagSpecifications=spec, CopyImageTags=True) == (
        {"copy": "image", "team": "owners"},
        {"copy": "snapshot"},
    )


def test_copy_image_encryption_parameters(org_server):
    c = Clients(org_server.url)
    owner, west = c("owner"), c("owner", OTHER_REGION)
    source = register(owner, "plain-source", make_snapshot(owner))
    key = f"arn:aws:kms:{OTHER_REGION}:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    _expect(
        "InvalidParameterDependency",
        west.copy_image, SourceImageId=source, SourceRegion=SOURCE_REGION, Name="kms-only", KmsKeyId=key,
    )  # fmt: skip
    _expect(
        "InvalidParameterDependency",
        west.copy_image,
        SourceImageId=source, SourceRegion=SOURCE_REGION, Name="kms-unencrypted", KmsKeyId=key, Encrypted=False,
    )  # fmt: skip
    assert west.describe_images(Owners=["self"])["Images"] == []
    copy_id = west.copy_image(
        SourceImageId=source, SourceRegion=SOURCE_REGION, Name="kms-copy", Encrypted=True, KmsKeyId=key
    )["ImageId"]
    [image] = west.describe_images(ImageIds=[copy_id])["Images"]
    ebs = image["BlockDeviceMappings"][0]["Ebs"]
    assert ebs["Encrypted"] is True
    [snapshot] = west.describe_snapshots(SnapshotIds=[ebs["SnapshotId"]])["Snapshots"]
    assert (snapshot["Encrypted"], snapshot["KmsKeyId"]) == (True, key)


def test_copy_image_refusals(org_server):
    c = Clients(org_server.url)
    owner, west, stranger_west = c("owner"), c("owner", OTHER_REGION), c("stranger", OTHER_REGION)
    source = register(owner, "refusal-source", make_snapshot(owner))
    base = dict(SourceImageId=source, SourceRegion=SOURCE_REGION, Name="refused")
    err = _expect("InvalidRegion", west.copy_image, **(base | {"SourceRegion": "mars-east-1"}))
    assert "mars-east-1" in err.response["Error"]["Message"]
    _expect("InvalidAMIID.NotFound", west.copy_image, **(base | {"SourceImageId": "ami-0123456789abcdef0"}))
    _expect("InvalidAMIID.Malformed", west.copy_image, **(base | {"SourceImageId": "ami-nope"}))
    # The image is in us-east-1, not in the region named as its source.
    _expect("InvalidAMIID.NotFound", west.copy_image, **(base | {"SourceRegion": "eu-west-1"}))
    # Not shared with the stranger.
    _expect("InvalidAMIID.NotFound", stranger_west.copy_image, **base)
    _expect("InvalidAMIName.Malformed", west.copy_image, **(base | {"Name": "bad*name"}))
    # A deregistered source is gone.
    gone = register(owner, "gone-source", make_snapshot(owner))
    owner.deregister_image(ImageId=gone)
    _expect("InvalidAMIID.NotFound", west.copy_image, **(base | {"SourceImageId": gone}))
    assert west.describe_images(Owners=["self"])["Images"] == []
    assert stranger_west.describe_images(Owners=["self"])["Images"] == []


def test_copy_marketplace_image_shared_by_another_account_is_refused(org_server):
    c = Clients(org_server.url)
    stranger = c("stranger")
    marketplace = stranger.describe_images(Owners=["aws-marketplace"])["Images"]
    assert marketplace, "the catalog has aws-marketplace images"
    image = marketplace[0]
    assert image["Public"] is True
    assert any(code["ProductCodeType"] == "marketplace" for code in image["ProductCodes"])
    err = _expect(
        "InvalidRequest",
        c("stranger", OTHER_REGION).copy_image,
        SourceImageId=image["ImageId"], SourceRegion=SOURCE_REGION, Name="marketplace-copy",
    )  # fmt: skip
    assert err.response["Error"]["Message"]
    assert c("stranger", OTHER_REGION).describe_images(Owners=["self"])["Images"] == []
    # It can still be launched once subscribed to (and a plain public catalog image can be copied).
    code = image["ProductCodes"][0]["ProductCodeId"]
    assert org_server.admin("PUT", f"/_ec2lite/marketplace/{STRANGER}/{code}")[0] == 200
    stranger.run_instances(ImageId=image["ImageId"], MinCount=1, MaxCount=1)
    amazon = next(i for i in stranger.describe_images(Owners=["amazon"])["Images"] if not i.get("ProductCodes"))
    copied = c("stranger", OTHER_REGION).copy_image(
        SourceImageId=amazon["ImageId"], SourceRegion=SOURCE_REGION, Name="my-al2023"
    )["ImageId"]
    [copy] = c("stranger", OTHER_REGION).describe_images(ImageIds=[copied])["Images"]
    assert (copy["OwnerId"], copy.get("ImageOwnerAlias")) == (STRANGER, None)


def test_copy_image_of_a_pending_source_is_refused(start_server):
    server = start_server("--image-pending-ms", "60000")
    owner = make_client(server.url, SOURCE_REGION, OWNER)
    source = register(owner, "slow-source", make_snapshot(owner))
    assert owner.describe_images(ImageIds=[source])["Images"][0]["State"] == "pending"
    err = _expect(
        "InvalidAMIID.Unavailable",
        make_client(server.url, OTHER_REGION, OWNER).copy_image,
        SourceImageId=source, SourceRegion=SOURCE_REGION, Name="too-early",
    )  # fmt: skip
    assert source in err.response["Error"]["Message"]


def test_copy_stays_pending_until_its_snapshots_complete(start_server):
    server = start_server("--snapshot-pending-ms", "1500")
    owner, west = make_client(server.url, SOURCE_REGION, OWNER), make_client(server.url, OTHER_REGION, OWNER)
    source = register(owner, "snap-source", make_snapshot(owner))
    owner.get_waiter("image_available").wait(ImageIds=[source], WaiterConfig=WAITER)
    copy_id = west.copy_image(SourceImageId=source, SourceRegion=SOURCE_REGION, Name="slow-copy")["ImageId"]
    [copy] = west.describe_images(ImageIds=[copy_id])["Images"]
    snapshot_id = copy["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    [snapshot] = west.describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"]
    assert (copy["State"], snapshot["State"]) == ("pending", "pending")
    # A pending copy cannot be launched or copied on.
    _expect("InvalidAMIID.Unavailable", west.run_instances, ImageId=copy_id, MinCount=1, MaxCount=1)
    _expect("InvalidAMIID.Unavailable", west.copy_image, SourceImageId=copy_id, SourceRegion=OTHER_REGION, Name="x-y-z")
    west.get_waiter("image_available").wait(ImageIds=[copy_id], WaiterConfig=WAITER)
    [snapshot] = west.describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"]
    assert snapshot["State"] == "completed"
