"""Security groups through boto3 and aws-cli: the default group of every VPC, groups
created in the default VPC and in others, full IpPermissions (protocols, ports, IPv4 and
IPv6 ranges, prefix lists, referenced groups of this and other accounts, descriptions),
sgr- rules, EC2's errors for bad input and dependencies, and durability."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from support import error_code, make_client

OTHER = "111111111111"


def expect_error(code: str, call, **params) -> str:
    with pytest.raises(ClientError) as caught:
        call(**params)
    assert error_code(caught.value) == code, caught.value.response["Error"]
    return caught.value.response["Error"]["Message"]


def default_vpc_id(ec2) -> str:
    return ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]


def group(ec2, group_id: str) -> dict:
    return ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]


def ssh_from(cidr: str, description: str | None = None) -> dict:
    ranges = {"CidrIp": cidr, **({"Description": description} if description else {})}
    return {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [ranges]}


def test_every_vpc_has_its_default_group(ec2):
    vpc_id = default_vpc_id(ec2)
    [default] = ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"]
    assert (default["VpcId"], default["Description"]) == (vpc_id, "default VPC security group")
    [inbound] = default["IpPermissions"]
    assert inbound["IpProtocol"] == "-1"
    assert inbound["UserIdGroupPairs"] == [{"GroupId": default["GroupId"], "UserId": "000000000000"}]
    assert default["IpPermissionsEgress"][0]["IpRanges"] == [{"CidrIp": "0.0.0.0/0"}]
    msg = expect_error("CannotDelete", ec2.delete_security_group, GroupId=default["GroupId"])
    assert default["GroupId"] in msg
    new_vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    [own] = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [new_vpc]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"]
    assert own["GroupId"] != default["GroupId"]


def test_group_story(ec2):
    created = ec2.create_security_group(
        GroupName="web",
        Description="web servers",
        TagSpecifications=[{"ResourceType": "security-group", "Tags": [{"Key": "team", "Value": "a"}]}],
    )
    group_id = created["GroupId"]
    assert created["SecurityGroupArn"].endswith(":security-group/" + group_id)
    assert created["Tags"] == [{"Key": "team", "Value": "a"}]
    web = group(ec2, group_id)
    assert (web["GroupName"], web["VpcId"], web["IpPermissions"]) == ("web", default_vpc_id(ec2), [])
    assert web["IpPermissionsEgress"] == [
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [], "PrefixListIds": [],
         "UserIdGroupPairs": []}
    ]
    expect_error("InvalidGroup.Duplicate", ec2.create_security_group, GroupName="web", Description="again")
    expect_error("InvalidGroup.Reserved", ec2.create_security_group, GroupName="default", Description="d")

    # Rules: one permission with every kind of peer becomes one rule per peer.
    app = ec2.create_security_group(GroupName="app", Description="app")["GroupId"]
    added = ec2.authorize_security_group_ingress(
        GroupId=group_id,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
             "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "office"}, {"CidrIp": "192.168.1.7/24"}],
             "Ipv6Ranges": [{"CidrIpv6": "::/0"}],
             "PrefixListIds": [{"PrefixListId": "pl-63a5400a"}],
             "UserIdGroupPairs": [{"GroupId": app, "Description": "from app"}]},
            {"IpProtocol": "icmp", "FromPort": 8, "ToPort": -1, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
            {"IpProtocol": "50", "IpRanges": [{"CidrIp": "172.16.0.0/12"}]},
        ],
        TagSpecifications=[{"ResourceType": "security-group-rule", "Tags": [{"Key": "k", "Value": "v"}]}],
    )
    rules = added["SecurityGroupRules"]
    assert len(rules) == 7 and all(r["SecurityGroupRuleId"].startswith("sgr-") for r in rules)
    assert rules[1]["CidrIpv4"] == "192.168.1.0/24"  # stored canonical
    assert rules[4]["ReferencedGroupInfo"] == {"GroupId": app, "UserId": "000000000000"}
    assert all(r["Tags"] == [{"Key": "k", "Value": "v"}] for r in rules)

    [https, icmp, esp] = group(ec2, group_id)["IpPermissions"]
    assert (https["FromPort"], https["ToPort"]) == (443, 443)
    assert https["IpRanges"] == [{"CidrIp": "10.0.0.0/8", "Description": "office"}, {"CidrIp": "192.168.1.0/24"}]
    assert https["Ipv6Ranges"] == [{"CidrIpv6": "::/0"}]
    assert https["PrefixListIds"] == [{"PrefixListId": "pl-63a5400a"}]
    assert https["UserIdGroupPairs"] == [{"Description": "from app", "GroupId": app, "UserId": "000000000000"}]
    assert (icmp["FromPort"], icmp["ToPort"]) == (8, -1)
    assert esp["IpProtocol"] == "50" and "FromPort" not in esp

    msg = expect_error("InvalidPermission.Duplicate", ec2.authorize_security_group_ingress,
                       GroupId=group_id, IpPermissions=[ssh_from("0.0.0.0/0"), ssh_from("0.0.0.0/0")])
    assert msg == 'the specified rule "peer: 0.0.0.0/0, TCP, from port: 22, to port: 22, ALLOW" already exists'
    expect_error("InvalidPermission.Duplicate", ec2.authorize_security_group_ingress, GroupId=group_id,
                 IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                                 "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "other words"}]}])

    # Filters over the group's rules.
    def ids(*filters) -> list[str]:
        found = ec2.describe_security_groups(Filters=[{"Name": n, "Values": v} for n, v in filters])
        return sorted(g["GroupId"] for g in found["SecurityGroups"])

    assert ids(("ip-permission.cidr", ["10.0.0.0/8"])) == [group_id]
    assert ids(("ip-permission.from-port", ["443"]), ("ip-permission.protocol", ["tcp"])) == [group_id]
    assert ids(("ip-permission.group-id", [app])) == [group_id]
    assert ids(("ip-permission.group-name", ["app"])) == [group_id]
    assert ids(("ip-permission.ipv6-cidr", ["::/0"])) == [group_id]
    assert group_id in ids(("egress.ip-permission.cidr", ["0.0.0.0/0"]))
    assert ids(("egress.ip-permission.cidr", ["10.0.0.0/8"])) == []
    assert ids(("tag:team", ["a"])) == [group_id]
    assert ids(("tag-value", ["a"])) == [group_id]
    assert ids(("group-name", ["we*"])) == [group_id]

    # DescribeSecurityGroupRules and rule edits by id.
    listed = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group_id]}])
    assert len(listed["SecurityGroupRules"]) == 8  # 7 inbound + the default outbound
    esp_rule = next(r for r in rules if r["IpProtocol"] == "50")
    ec2.modify_security_group_rules(GroupId=group_id, SecurityGroupRules=[{
        "SecurityGroupRuleId": esp_rule["SecurityGroupRuleId"],
        "SecurityGroupRule": {"IpProtocol": "udp", "FromPort": 53, "ToPort": 53, "CidrIpv4": "172.16.0.0/12",
                              "Description": "dns"}}])
    [changed] = ec2.describe_security_group_rules(SecurityGroupRuleIds=[esp_rule["SecurityGroupRuleId"]])[
        "SecurityGroupRules"]
    assert (changed["IpProtocol"], changed["FromPort"], changed["Description"]) == ("udp", 53, "dns")
    ec2.update_security_group_rule_descriptions_ingress(
        GroupId=group_id, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                                          "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "hq"}]}])
    assert group(ec2, group_id)["IpPermissions"][0]["IpRanges"][0] == {"CidrIp": "10.0.0.0/8", "Description": "hq"}

    # Revocation by rule, by id; unknown rules in the default VPC come back as unknown.
    ec2.revoke_security_group_ingress(GroupId=group_id, SecurityGroupRuleIds=[rules[0]["SecurityGroupRuleId"]])
    answer = ec2.revoke_security_group_ingress(
        GroupId=group_id, IpPermissions=[ssh_from("8.8.8.8/32"),
                                         {"IpProtocol": "icmp", "FromPort": 8, "ToPort": -1,
                                          "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    assert answer["Return"] is True
    assert answer["UnknownIpPermissions"][0]["IpRanges"] == [{"CidrIp": "8.8.8.8/32"}]
    remaining = group(ec2, group_id)["IpPermissions"]
    assert [p["IpProtocol"] for p in remaining] == ["tcp", "udp"]
    expect_error("InvalidSecurityGroupRuleId.NotFound", ec2.revoke_security_group_ingress,
                 GroupId=group_id, SecurityGroupRuleIds=[rules[0]["SecurityGroupRuleId"]])

    # Referenced groups cannot be deleted; unreferenced ones can, by id or by name.
    expect_error("DependencyViolation", ec2.delete_security_group, GroupId=app)
    ec2.delete_security_group(GroupName="web")
    ec2.delete_security_group(GroupId=app)
    expect_error("InvalidGroup.NotFound", ec2.describe_security_groups, GroupIds=[app])
    assert "does not exist in default VPC" in expect_error(
        "InvalidGroup.NotFound", ec2.describe_security_groups, GroupNames=["web"])


def test_groups_in_a_new_vpc(ec2):
    vpc_id = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    group_id = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc_id)["GroupId"]
    # The same name may exist once per VPC.
    ec2.create_security_group(GroupName="web", Description="web in the default VPC")
    # What Terraform does with a new group: drop the default egress rule (sending 0/0
    # ports with protocol -1, which EC2 ignores), then add its own rules.
    ec2.revoke_security_group_egress(GroupId=group_id, IpPermissions=[
        {"IpProtocol": "-1", "FromPort": 0, "ToPort": 0, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    assert group(ec2, group_id)["IpPermissionsEgress"] == []
    # In a non-default VPC an unknown rule fails the revocation.
    assert expect_error("InvalidPermission.NotFound", ec2.revoke_security_group_egress, GroupId=group_id,
                        IpPermissions=[ssh_from("0.0.0.0/0")]) == \
        "The specified rule does not exist in this security group."
    ec2.authorize_security_group_egress(GroupId=group_id, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}])
    # A group of another VPC cannot be referenced.
    default_group = ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"][0]["GroupId"]
    msg = expect_error("InvalidGroup.NotFound", ec2.authorize_security_group_ingress, GroupId=group_id,
                       IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": default_group}]}])
    assert "different networks" in msg
    # The VPC cannot go while the group is in it.
    expect_error("DependencyViolation", ec2.delete_vpc, VpcId=vpc_id)
    ec2.delete_security_group(GroupId=group_id)
    ec2.delete_vpc(VpcId=vpc_id)
    expect_error("InvalidVpcID.NotFound", ec2.create_security_group, GroupName="x", Description="x", VpcId=vpc_id)


def test_hostile_rules_get_ec2_errors(ec2):
    group_id = ec2.create_security_group(GroupName="h", Description="h")["GroupId"]

    def refused(permission: dict) -> str:
        return expect_error("InvalidParameterValue", ec2.authorize_security_group_ingress,
                            GroupId=group_id, IpPermissions=[permission])

    assert refused(ssh_from("10.0.0.0/33")) == "CIDR block 10.0.0.0/33 is malformed"
    assert refused(ssh_from("not-a-cidr"))
    assert refused({"IpProtocol": "tcp", "FromPort": 80, "ToPort": 70, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]})
    assert refused({"IpProtocol": "udp", "FromPort": 0, "ToPort": 70000, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]})
    assert "Must specify both from and to ports" in refused(
        {"IpProtocol": "tcp", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]})
    assert "Unknown protocol" in refused({"IpProtocol": "bogus", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]})
    expect_error("InvalidGroupId.Malformed", ec2.describe_security_groups, GroupIds=["sg-nothex"])
    expect_error("InvalidGroup.NotFound", ec2.authorize_security_group_ingress,
                 GroupId="sg-0123456789abcdef0", IpPermissions=[ssh_from("0.0.0.0/0")])
    # 1,000 rules in one call: the quota of 60 per direction answers, nothing is stored.
    many = [ssh_from(f"10.{i // 250}.{i % 250}.0/24") for i in range(1000)]
    msg = expect_error("RulesPerSecurityGroupLimitExceeded", ec2.authorize_security_group_ingress,
                       GroupId=group_id, IpPermissions=many)
    assert msg == "The maximum number of rules per security group has been reached."
    assert group(ec2, group_id)["IpPermissions"] == []
    ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=many[:60])
    assert len(group(ec2, group_id)["IpPermissions"][0]["IpRanges"]) == 60
    expect_error("RulesPerSecurityGroupLimitExceeded", ec2.authorize_security_group_ingress,
                 GroupId=group_id, IpPermissions=[ssh_from("11.0.0.0/8")])
    # IPv6 rules have a quota of their own.
    ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}])


def test_groups_across_accounts(ec2, client_factory):
    other = client_factory(access_key=OTHER)
    theirs = other.create_security_group(GroupName="lb", Description="their load balancers")["GroupId"]
    mine = ec2.create_security_group(GroupName="app", Description="app")["GroupId"]
    # Their group is not visible to me, nor mine to them ...
    expect_error("InvalidGroup.NotFound", ec2.describe_security_groups, GroupIds=[theirs])
    expect_error("InvalidGroup.NotFound", other.delete_security_group, GroupId=mine)
    # ... but I may let its members in, naming its owner.
    ec2.authorize_security_group_ingress(GroupId=mine, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
         "UserIdGroupPairs": [{"GroupId": theirs, "UserId": OTHER}]}])
    [pair] = group(ec2, mine)["IpPermissions"][0]["UserIdGroupPairs"]
    assert pair == {"GroupId": theirs, "UserId": OTHER}
    # A group that does not exist in that account is refused.
    expect_error("InvalidGroup.NotFound", ec2.authorize_security_group_ingress, GroupId=mine, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 81, "ToPort": 81,
         "UserIdGroupPairs": [{"GroupId": mine, "UserId": OTHER}]}])
    # Still referenced by my rule: they cannot delete it.
    expect_error("DependencyViolation", other.delete_security_group, GroupId=theirs)


def test_paging_and_limits(ec2):
    created = {ec2.create_security_group(GroupName=f"g{i}", Description="d")["GroupId"] for i in range(12)}
    seen, token = [], None
    while True:
        page = ec2.describe_security_groups(MaxResults=5, **({"NextToken": token} if token else {}))
        seen += [g["GroupId"] for g in page["SecurityGroups"]]
        token = page.get("NextToken")
        if not token:
            break
    assert created <= set(seen) and len(seen) == len(set(seen)) == 13  # + default


def test_groups_survive_restart_and_kill(server, ec2):
    group_id = ec2.create_security_group(GroupName="keep", Description="keep")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[ssh_from("10.0.0.0/8", "vpn")])
    server.kill()
    server.start()
    again = make_client(server.url)
    [ssh] = group(again, group_id)["IpPermissions"]
    assert ssh["IpRanges"] == [{"CidrIp": "10.0.0.0/8", "Description": "vpn"}]
    server.restart()
    assert group(make_client(server.url), group_id)["GroupName"] == "keep"


def test_cli_security_group(aws):
    group_id = aws.ok("create-security-group", "--group-name", "cli", "--description", "from the cli")["GroupId"]
    aws.ok("authorize-security-group-ingress", "--group-id", group_id, "--protocol", "tcp", "--port", "22",
           "--cidr", "203.0.113.0/24")
    aws.ok("authorize-security-group-ingress", "--group-id", group_id, "--protocol", "all",
           "--source-group", group_id)
    [found] = aws.ok("describe-security-groups", "--group-ids", group_id)["SecurityGroups"]
    assert [p["IpProtocol"] for p in found["IpPermissions"]] == ["tcp", "-1"]
    assert "InvalidPermission.Duplicate" in aws.err("authorize-security-group-ingress", "--group-id", group_id,
                                                    "--protocol", "tcp", "--port", "22", "--cidr", "203.0.113.0/24")
    aws.ok("revoke-security-group-ingress", "--group-id", group_id, "--protocol", "tcp", "--port", "22",
           "--cidr", "203.0.113.0/24")
    aws.ok("delete-security-group", "--group-id", group_id)
