import re
def sub(kind, old, new, count=1):
    p = f'schemas/{kind}.schema.json'; s = open(p).read()
    assert s.count(old) == count, (kind, old, s.count(old))
    s = s.replace(old, new); open(p, 'w').write(s)
ATT = '"x-deployer-reference": { "attach": ["MicroService"] }, '
for lb in ['ALB', 'NLB']:
    sub(lb, '"description": "A target: <service>/<component>, a valueFrom, or an object', ATT + '"description": "A target: <service>/<component>, a valueFrom, or an object')
    sub(lb, '"$ref": "defs.schema.json#/definitions/componentTarget",\n                    "description": "The component that serves',
            '"$ref": "defs.schema.json#/definitions/componentTarget",\n                    ' + ATT + '\n                    "description": "The component that serves')
    s = open(f'schemas/{lb}.schema.json').read()
    m = re.search(r'"bucket": \{\n(\s*)"\$ref": "defs.schema.json#/definitions/componentTarget",', s)
    sub(lb, m.group(0), m.group(0) + '\n' + m.group(1) + '"x-deployer-reference": { "kinds": { "S3": "bucketName" } },')
sub('CloudFront', '"bucket": { "$ref": "defs.schema.json#/definitions/componentTarget", "description": "S3 component that receives the logs." }',
    '"bucket": {\n              "$ref": "defs.schema.json#/definitions/componentTarget",\n              "x-deployer-reference": { "kinds": { "S3": "domainName" } },\n              "description": "S3 component that receives the logs."\n            }')
sub('EBS', '"$ref": "defs.schema.json#/definitions/componentTarget",\n              "description": "EC2Instance component',
    '"$ref": "defs.schema.json#/definitions/componentTarget",\n              "x-deployer-reference": { "kinds": { "EC2Instance": "id" } },\n              "description": "EC2Instance component')
