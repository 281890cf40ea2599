import json, re
def load(k): return json.load(open(f'schemas/{k}.schema.json'))
def node(s, path):
    n = s
    for p in path: n = n[p]
    return n
def mark(kind, path, marker):
    s = load(kind); n = node(s, path); n['x-deployer-reference'] = marker
    text = json.dumps(s, indent=2, ensure_ascii=False) + '\n'
    open(f'schemas/{kind}.schema.json', 'w').write(text)
spec = ['properties', 'spec', 'properties']
attach = {"attach": ["MicroService"]}
for lb in ['ALB', 'NLB']:
    mark(lb, spec + ['targets', 'items'], attach)
    mark(lb, spec + ['targets', 'items', 'anyOf', 2, 'properties', 'component'], attach)
    mark(lb, spec + ['accessLogs', 'properties', 'bucket'], {"kinds": {"S3": "bucketName"}})
mark('CloudFront', spec + ['logging', 'properties', 'bucket'], {"kinds": {"S3": "domainName"}})
mark('EBS', spec + ['attachTo', 'properties', 'instance'], {"kinds": {"EC2Instance": "id"}})
mark('SQS', spec + ['deadLetter', 'properties', 'queue'], {"kinds": {"SQS": "arn"}})
