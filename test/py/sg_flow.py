#!/usr/bin/env python3
"""The security-group workflow through boto3 against a Palisade endpoint.

Usage: python3 sg_flow.py <endpoint-url>

Runs the flow with plain `assert`s (exit status 1 and a traceback on the first failure) and
prints a one-line JSON summary on stdout when everything held. Driven by test/boto3.test.ts.
"""
import json
import re
import sys

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import ClientError

SG_ID = re.compile(r'^sg-[0-9a-f]{17}$')
RULE_ID = re.compile(r'^sgr-[0-9a-f]{17}$')

summary = {'boto3': boto3.__version__, 'botocore': botocore.__version__, 'steps': [], 'errors': []}


def step(name):
    summary['steps'].append(name)


def expect_error(code, fn, status=400, match=None, **kwargs):
    """Calls fn(**kwargs), which must fail with the AWS error `code` and HTTP `status`."""
    try:
        fn(**kwargs)
    except ClientError as e:
        got = e.response['Error']['Code']
        assert got == code, f'expected {code}, got {got}: {e.response["Error"].get("Message")}'
        http = e.response['ResponseMetadata']['HTTPStatusCode']
        assert http == status, f'{code}: expected HTTP {status}, got {http}'
        message = e.response['Error'].get('Message', '')
        if match is not None:
            assert re.search(match, message), f'{code}: message {message!r} does not match {match!r}'
        assert e.response['ResponseMetadata'].get('RequestId'), 'errors carry a request id'
        summary['errors'].append(code)
        return message
    raise AssertionError(f'expected {code}, but the call succeeded')


def main(endpoint):
    ec2 = boto3.client(
        'ec2', endpoint_url=endpoint, region_name='us-east-1',
        aws_access_key_id='AKIAIOSFODNN7EXAMPLE', aws_secret_access_key='x',
        config=Config(retries={'total_max_attempts': 1}),
    )

    default_vpc = ec2.describe_vpcs(Filters=[{'Name': 'is-default', 'Values': ['true']}])['Vpcs'][0]['VpcId']

    # --- create ------------------------------------------------------------------------------
    out = ec2.create_security_group(
        GroupName='py-web', Description='web tier',
        TagSpecifications=[{'ResourceType': 'security-group', 'Tags': [{'Key': 'tier', 'Value': 'web'}]}],
    )
    web = out['GroupId']
    assert SG_ID.match(web), web
    assert out['SecurityGroupArn'].endswith(f':security-group/{web}'), out['SecurityGroupArn']
    assert out['Tags'] == [{'Key': 'tier', 'Value': 'web'}], out.get('Tags')
    assert out['ResponseMetadata']['HTTPStatusCode'] == 200
    app = ec2.create_security_group(GroupName='py-app', Description='app tier')['GroupId']
    step('create')

    # --- authorize: legacy flat parameters, then IpPermissions --------------------------------
    out = ec2.authorize_security_group_ingress(GroupId=web, IpProtocol='tcp', FromPort=22, ToPort=22, CidrIp='203.0.113.0/24')
    assert out['Return'] is True
    [ssh] = out['SecurityGroupRules']
    assert RULE_ID.match(ssh['SecurityGroupRuleId'])
    assert (ssh['GroupId'], ssh['IsEgress'], ssh['IpProtocol'], ssh['FromPort'], ssh['ToPort'], ssh['CidrIpv4']) == \
        (web, False, 'tcp', 22, 22, '203.0.113.0/24'), ssh

    out = ec2.authorize_security_group_ingress(
        GroupId=web,
        IpPermissions=[{
            'IpProtocol': 'tcp', 'FromPort': 443, 'ToPort': 443,
            'IpRanges': [{'CidrIp': '10.0.0.0/8', 'Description': 'https from the VPN'}],
            'Ipv6Ranges': [{'CidrIpv6': '2001:DB8::/32', 'Description': 'https v6'}],
            'UserIdGroupPairs': [{'GroupId': app, 'Description': 'from app tier'}],
        }],
        TagSpecifications=[{'ResourceType': 'security-group-rule', 'Tags': [{'Key': 'Name', 'Value': 'https-in'}]}],
    )
    rules = out['SecurityGroupRules']
    assert len(rules) == 3, rules
    v4 = next(r for r in rules if 'CidrIpv4' in r)
    v6 = next(r for r in rules if 'CidrIpv6' in r)
    pair = next(r for r in rules if 'ReferencedGroupInfo' in r)
    assert v4['CidrIpv4'] == '10.0.0.0/8' and v4['Description'] == 'https from the VPN'
    assert v6['CidrIpv6'] == '2001:db8::/32', 'IPv6 CIDRs come back canonical (lower case)'
    assert pair['ReferencedGroupInfo']['GroupId'] == app and pair['Description'] == 'from app tier'
    for r in rules:
        assert r['Tags'] == [{'Key': 'Name', 'Value': 'https-in'}], r
    # ICMP: FromPort is the type, ToPort the code.
    out = ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=[
        {'IpProtocol': 'icmp', 'FromPort': 8, 'ToPort': -1, 'IpRanges': [{'CidrIp': '0.0.0.0/0'}]}])
    icmp = out['SecurityGroupRules'][0]
    step('authorize')

    # --- authorize errors ---------------------------------------------------------------------
    expect_error('InvalidPermission.Duplicate', ec2.authorize_security_group_ingress,
                 match=r'the specified rule "peer: 203\.0\.113\.0/24, TCP, from port: 22, to port: 22, ALLOW" already exists',
                 GroupId=web, IpProtocol='tcp', FromPort=22, ToPort=22, CidrIp='203.0.113.9/24')
    expect_error('InvalidParameterValue', ec2.authorize_security_group_ingress,
                 match=r'The same permission must not appear multiple times',
                 GroupId=web, IpPermissions=[
                     {'IpProtocol': 'udp', 'FromPort': 53, 'ToPort': 53, 'IpRanges': [{'CidrIp': '10.1.0.0/16'}]},
                     {'IpProtocol': 'udp', 'FromPort': 53, 'ToPort': 53, 'IpRanges': [{'CidrIp': '10.1.0.0/16'}]}])
    expect_error('InvalidParameterValue', ec2.authorize_security_group_ingress, match=r"Invalid value 'all' for IP protocol",
                 GroupId=web, IpPermissions=[{'IpProtocol': 'all', 'IpRanges': [{'CidrIp': '0.0.0.0/0'}]}])
    expect_error('InvalidParameterValue', ec2.authorize_security_group_ingress, match=r'CIDR block 10\.0\.0\.1 is malformed',
                 GroupId=web, IpPermissions=[{'IpProtocol': 'tcp', 'FromPort': 1, 'ToPort': 2, 'IpRanges': [{'CidrIp': '10.0.0.1'}]}])
    expect_error('InvalidParameterValue', ec2.authorize_security_group_ingress, match=r'Must specify both from and to ports',
                 GroupId=web, IpPermissions=[{'IpProtocol': 'tcp', 'IpRanges': [{'CidrIp': '0.0.0.0/0'}]}])
    expect_error('InvalidGroup.NotFound', ec2.authorize_security_group_ingress, match=r"The security group 'sg-0123456789abcdef0' does not exist",
                 GroupId='sg-0123456789abcdef0', IpProtocol='tcp', FromPort=1, ToPort=1, CidrIp='1.2.3.4/32')
    step('authorize-errors')

    # --- describe -----------------------------------------------------------------------------
    [g] = ec2.describe_security_groups(GroupIds=[web])['SecurityGroups']
    assert (g['GroupName'], g['Description'], g['VpcId']) == ('py-web', 'web tier', default_vpc), g
    assert re.match(r'^\d{12}$', g['OwnerId'])
    assert g['Tags'] == [{'Key': 'tier', 'Value': 'web'}]
    perms = {(p['IpProtocol'], p.get('FromPort')): p for p in g['IpPermissions']}
    assert set(perms) == {('tcp', 22), ('tcp', 443), ('icmp', 8)}, perms.keys()
    assert perms[('tcp', 22)]['IpRanges'] == [{'CidrIp': '203.0.113.0/24'}]
    https = perms[('tcp', 443)]
    assert https['ToPort'] == 443
    assert https['IpRanges'] == [{'CidrIp': '10.0.0.0/8', 'Description': 'https from the VPN'}]
    assert https['Ipv6Ranges'] == [{'CidrIpv6': '2001:db8::/32', 'Description': 'https v6'}]
    assert [(p['GroupId'], p['Description']) for p in https['UserIdGroupPairs']] == [(app, 'from app tier')]
    assert perms[('icmp', 8)]['ToPort'] == -1
    [egress] = g['IpPermissionsEgress']
    assert egress['IpProtocol'] == '-1' and 'FromPort' not in egress and egress['IpRanges'] == [{'CidrIp': '0.0.0.0/0'}], egress

    by_name = ec2.describe_security_groups(GroupNames=['PY-WEB'])['SecurityGroups']
    assert [x['GroupId'] for x in by_name] == [web], 'names resolve case-insensitively in the default VPC'
    expect_error('InvalidGroup.NotFound', ec2.describe_security_groups, GroupNames=['py-none'],
                 match=rf"The security group 'py-none' does not exist in default VPC '{default_vpc}'")
    expect_error('InvalidGroupId.Malformed', ec2.describe_security_groups, GroupIds=['web'], match=r'Invalid id: "web"')

    port22 = [x['GroupId'] for x in ec2.describe_security_groups(
        Filters=[{'Name': 'ip-permission.from-port', 'Values': ['22']}])['SecurityGroups']]
    assert web in port22 and app not in port22, port22
    combo = ec2.describe_security_groups(Filters=[
        {'Name': 'ip-permission.protocol', 'Values': ['tcp']},
        {'Name': 'ip-permission.ipv6-cidr', 'Values': ['2001:db8::/32']},
        {'Name': 'vpc-id', 'Values': [default_vpc]},
    ])['SecurityGroups']
    assert [x['GroupId'] for x in combo] == [web], combo
    assert ec2.describe_security_groups(Filters=[{'Name': 'tag:tier', 'Values': ['w*']}])['SecurityGroups'][0]['GroupId'] == web
    expect_error('InvalidParameterValue', ec2.describe_security_groups, Filters=[{'Name': 'no-such-filter', 'Values': ['x']}])
    step('describe')

    # --- describe rules -----------------------------------------------------------------------
    rules = ec2.describe_security_group_rules(Filters=[{'Name': 'group-id', 'Values': [web]}])['SecurityGroupRules']
    assert len(rules) == 6, f'5 ingress + 1 egress, got {len(rules)}'
    ingress_ids = sorted(r['SecurityGroupRuleId'] for r in rules if not r['IsEgress'])
    assert ingress_ids == sorted([ssh['SecurityGroupRuleId'], v4['SecurityGroupRuleId'], v6['SecurityGroupRuleId'],
                                  pair['SecurityGroupRuleId'], icmp['SecurityGroupRuleId']])
    [eg] = [r for r in rules if r['IsEgress']]
    assert (eg['IpProtocol'], eg['FromPort'], eg['ToPort'], eg['CidrIpv4']) == ('-1', -1, -1, '0.0.0.0/0'), eg
    tagged = ec2.describe_security_group_rules(Filters=[{'Name': 'tag:Name', 'Values': ['https-in']}])['SecurityGroupRules']
    assert sorted(r['SecurityGroupRuleId'] for r in tagged) == sorted(
        [v4['SecurityGroupRuleId'], v6['SecurityGroupRuleId'], pair['SecurityGroupRuleId']])
    [one] = ec2.describe_security_group_rules(SecurityGroupRuleIds=[pair['SecurityGroupRuleId']])['SecurityGroupRules']
    assert one['ReferencedGroupInfo']['GroupId'] == app
    expect_error('InvalidSecurityGroupRuleId.NotFound', ec2.describe_security_group_rules,
                 SecurityGroupRuleIds=['sgr-0123456789abcdef0'])
    step('describe-rules')

    # --- tags ---------------------------------------------------------------------------------
    ec2.create_tags(Resources=[web, app], Tags=[{'Key': 'env', 'Value': 'dev'}, {'Key': 'owner', 'Value': ''}])
    tags = ec2.describe_tags(Filters=[{'Name': 'resource-id', 'Values': [web, app]}])['Tags']
    rows = sorted((t['ResourceId'], t['ResourceType'], t['Key'], t['Value']) for t in tags)
    assert rows == sorted([
        (web, 'security-group', 'tier', 'web'), (web, 'security-group', 'env', 'dev'), (web, 'security-group', 'owner', ''),
        (app, 'security-group', 'env', 'dev'), (app, 'security-group', 'owner', ''),
    ]), rows
    ec2.create_tags(Resources=[web], Tags=[{'Key': 'env', 'Value': 'prod'}])  # overwrites
    ec2.delete_tags(Resources=[app], Tags=[{'Key': 'env'}])
    vals = {(t['ResourceId'], t['Key']): t['Value'] for t in ec2.describe_tags(
        Filters=[{'Name': 'key', 'Values': ['env']}, {'Name': 'resource-type', 'Values': ['security-group']}])['Tags']}
    assert vals.get((web, 'env')) == 'prod' and (app, 'env') not in vals, vals
    expect_error('InvalidGroup.NotFound', ec2.create_tags, Resources=['sg-0123456789abcdef0'], Tags=[{'Key': 'a', 'Value': 'b'}])
    step('tags')

    # --- revoke -------------------------------------------------------------------------------
    out = ec2.revoke_security_group_ingress(GroupId=web, IpProtocol='tcp', FromPort=22, ToPort=22, CidrIp='203.0.113.0/24')
    assert out['Return'] is True and 'UnknownIpPermissions' not in out, out
    assert [r['SecurityGroupRuleId'] for r in out['RevokedSecurityGroupRules']] == [ssh['SecurityGroupRuleId']]
    # Default VPC: revoking a rule that does not exist succeeds and echoes it back as unknown.
    out = ec2.revoke_security_group_ingress(GroupId=web, IpPermissions=[
        {'IpProtocol': 'tcp', 'FromPort': 22, 'ToPort': 22, 'IpRanges': [{'CidrIp': '203.0.113.0/24'}]}])
    assert out['Return'] is True
    [unknown] = out['UnknownIpPermissions']
    assert (unknown['IpProtocol'], unknown['FromPort'], unknown['ToPort']) == ('tcp', 22, 22), unknown
    assert unknown['IpRanges'] == [{'CidrIp': '203.0.113.0/24'}], unknown
    assert out.get('RevokedSecurityGroupRules', []) == []
    summary['unknownIpPermissions'] = out['UnknownIpPermissions']
    # Mixed: one known and one unknown source in a permission; the known one is revoked.
    out = ec2.revoke_security_group_ingress(GroupId=web, IpPermissions=[
        {'IpProtocol': 'icmp', 'FromPort': 8, 'ToPort': -1, 'IpRanges': [{'CidrIp': '0.0.0.0/0'}, {'CidrIp': '192.0.2.0/24'}]}])
    assert [r['SecurityGroupRuleId'] for r in out['RevokedSecurityGroupRules']] == [icmp['SecurityGroupRuleId']], out
    assert out['UnknownIpPermissions'][0]['IpRanges'] == [{'CidrIp': '192.0.2.0/24'}], out

    # A non-default VPC: the same unknown revoke fails and changes nothing.
    vpc = ec2.create_vpc(CidrBlock='10.99.0.0/16')['Vpc']['VpcId']
    other = ec2.create_security_group(GroupName='py-other', Description='other vpc', VpcId=vpc)['GroupId']
    ec2.authorize_security_group_ingress(GroupId=other, IpPermissions=[
        {'IpProtocol': 'tcp', 'FromPort': 80, 'ToPort': 80, 'IpRanges': [{'CidrIp': '10.0.0.0/8'}]}])
    expect_error('InvalidPermission.NotFound', ec2.revoke_security_group_ingress,
                 match=r'The specified rule does not exist in this security group',
                 GroupId=other, IpPermissions=[{'IpProtocol': 'tcp', 'FromPort': 80, 'ToPort': 80,
                                                'IpRanges': [{'CidrIp': '10.0.0.0/8'}, {'CidrIp': '1.2.3.4/32'}]}])
    assert len(ec2.describe_security_groups(GroupIds=[other])['SecurityGroups'][0]['IpPermissions']) == 1, 'all or nothing'
    expect_error('InvalidGroup.NotFound', ec2.authorize_security_group_ingress,
                 match=r'You have specified two resources that belong to different networks',
                 GroupId=other, IpPermissions=[{'IpProtocol': '-1', 'UserIdGroupPairs': [{'GroupId': web}]}])

    # By rule id.
    expect_error('DependencyViolation', ec2.delete_security_group, GroupId=app, match=rf'resource {app} has a dependent object')
    out = ec2.revoke_security_group_ingress(GroupId=web, SecurityGroupRuleIds=[v6['SecurityGroupRuleId'], pair['SecurityGroupRuleId']])
    assert out['Return'] is True
    revoked = {r['SecurityGroupRuleId']: r for r in out['RevokedSecurityGroupRules']}
    assert set(revoked) == {v6['SecurityGroupRuleId'], pair['SecurityGroupRuleId']}, revoked
    assert revoked[v6['SecurityGroupRuleId']]['CidrIpv6'] == '2001:db8::/32'
    assert revoked[pair['SecurityGroupRuleId']].get('ReferencedGroupId') == app, revoked[pair['SecurityGroupRuleId']]
    expect_error('InvalidSecurityGroupRuleId.NotFound', ec2.revoke_security_group_ingress,
                 GroupId=web, SecurityGroupRuleIds=[v6['SecurityGroupRuleId']])
    # Egress by properties.
    out = ec2.revoke_security_group_egress(GroupId=web, IpPermissions=[{'IpProtocol': '-1', 'IpRanges': [{'CidrIp': '0.0.0.0/0'}]}])
    assert len(out['RevokedSecurityGroupRules']) == 1 and out['RevokedSecurityGroupRules'][0]['IsEgress'] is True
    [g] = ec2.describe_security_groups(GroupIds=[web])['SecurityGroups']
    assert g['IpPermissionsEgress'] == []
    assert [(p['IpProtocol'], p['FromPort'], p['IpRanges'], p['Ipv6Ranges'], p['UserIdGroupPairs']) for p in g['IpPermissions']] == \
        [('tcp', 443, [{'CidrIp': '10.0.0.0/8', 'Description': 'https from the VPN'}], [], [])], g['IpPermissions']
    step('revoke')

    # --- pagination ---------------------------------------------------------------------------
    created = []
    for i in range(12):
        created.append(ec2.create_security_group(
            GroupName=f'py-page-{i:02d}', Description='paging',
            TagSpecifications=[{'ResourceType': 'security-group', 'Tags': [{'Key': 'batch', 'Value': 'paging'}]}],
        )['GroupId'])
    paginator = ec2.get_paginator('describe_security_groups')
    pages = list(paginator.paginate(Filters=[{'Name': 'tag:batch', 'Values': ['paging']}], PaginationConfig={'PageSize': 5}))
    sizes = [len(p['SecurityGroups']) for p in pages]
    assert sizes == [5, 5, 2], sizes
    assert all('NextToken' in p for p in pages[:-1]) and 'NextToken' not in pages[-1], [p.get('NextToken') for p in pages]
    paged = [x['GroupId'] for p in pages for x in p['SecurityGroups']]
    assert paged == created, 'pages keep creation order, no duplicates, nothing missed'
    # Everything, unfiltered, in pages of 5 equals the unpaged answer.
    everything = [x['GroupId'] for x in ec2.describe_security_groups()['SecurityGroups']]
    all_pages = list(paginator.paginate(PaginationConfig={'PageSize': 5}))
    assert [x['GroupId'] for p in all_pages for x in p['SecurityGroups']] == everything
    assert all(len(p['SecurityGroups']) <= 5 for p in all_pages)
    assert len(all_pages) == -(-len(everything) // 5), (len(all_pages), len(everything))
    # The paginator's own MaxItems/StartingToken resume.
    first = paginator.paginate(Filters=[{'Name': 'tag:batch', 'Values': ['paging']}],
                               PaginationConfig={'PageSize': 5, 'MaxItems': 7}).build_full_result()
    assert [x['GroupId'] for x in first['SecurityGroups']] == created[:7] and 'NextToken' in first
    rest = paginator.paginate(Filters=[{'Name': 'tag:batch', 'Values': ['paging']}],
                              PaginationConfig={'PageSize': 5, 'StartingToken': first['NextToken']}).build_full_result()
    assert [x['GroupId'] for x in rest['SecurityGroups']] == created[7:], rest
    # botocore refuses MaxResults < 5 itself; without its validation the server must refuse it too.
    loose = boto3.client(
        'ec2', endpoint_url=endpoint, region_name='us-east-1', aws_access_key_id='AKIAIOSFODNN7EXAMPLE', aws_secret_access_key='x',
        config=Config(retries={'total_max_attempts': 1}, parameter_validation=False),
    )
    expect_error('InvalidParameterValue', loose.describe_security_groups, MaxResults=4, match=r'maxResults')
    expect_error('InvalidNextToken', ec2.describe_security_groups, MaxResults=5, NextToken='not-a-token')
    summary['pages'] = sizes
    summary['pagedGroups'] = len(paged)
    summary['allGroups'] = len(everything)
    step('pagination')

    # --- dry run, delete ----------------------------------------------------------------------
    expect_error('DryRunOperation', ec2.delete_security_group, status=412, GroupId=web, DryRun=True,
                 match=r'Request would have succeeded, but DryRun flag is set')
    default_sg = ec2.describe_security_groups(GroupNames=['default'])['SecurityGroups'][0]['GroupId']
    expect_error('CannotDelete', ec2.delete_security_group, GroupId=default_sg)
    expect_error('InvalidParameterValue', ec2.create_security_group, GroupName='sg-web', Description='x',
                 match=r'Group names may not be in the format sg-\*')
    expect_error('InvalidGroup.Duplicate', ec2.create_security_group, GroupName='Py-Web', Description='x',
                 match=rf"The security group 'Py-Web' already exists for VPC '{default_vpc}'")
    out = ec2.delete_security_group(GroupId=web)
    assert out['Return'] is True and out['GroupId'] == web, out
    out = ec2.delete_security_group(GroupName='py-app')
    assert out['GroupId'] == app, out
    for gid in created:
        ec2.delete_security_group(GroupId=gid)
    ec2.delete_security_group(GroupId=other)
    expect_error('InvalidGroup.NotFound', ec2.describe_security_groups, GroupIds=[web],
                 match=rf"The security group '{web}' does not exist")
    expect_error('InvalidGroup.NotFound', ec2.delete_security_group, GroupId=web)
    left = {x['GroupName'] for x in ec2.describe_security_groups()['SecurityGroups']}
    assert left == {'default'}, left
    step('delete')

    summary['ok'] = True
    print(json.dumps(summary))


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit('usage: sg_flow.py <endpoint-url>')
    main(sys.argv[1])
