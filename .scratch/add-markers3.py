def sub(kind, old, new, count=1):
    p = f'schemas/{kind}.schema.json'; s = open(p).read()
    assert s.count(old) == count, (kind, old, s.count(old))
    s = s.replace(old, new); open(p, 'w').write(s)
CT = '"$ref": "defs.schema.json#/definitions/componentTarget",\n'
def mark_multi(kind, desc_start, marker, indent):
    sub(kind, CT + ' ' * indent + '"description": "' + desc_start, CT + ' ' * indent + '"x-deployer-reference": ' + marker + ',\n' + ' ' * indent + '"description": "' + desc_start)
mark_multi('SQS', 'An existing SQS component', '{ "kinds": { "SQS": "arn" } }', 14)
mark_multi('APIGateway', 'The Lambda, MicroService', '{ "kinds": { "Lambda": "invokeArn", "MicroService": "arn", "ALB": "listenerArn", "NLB": "listenerArn" } }', 16)
sub('APIGateway', '"function": { "$ref": "defs.schema.json#/definitions/componentTarget", "description": "lambda: the Lambda component." }',
    '"function": {\n                "$ref": "defs.schema.json#/definitions/componentTarget",\n                "x-deployer-reference": { "kinds": { "Lambda": "invokeArn" } },\n                "description": "lambda: the Lambda component."\n              }')
mark_multi('EventBridge', 'A Lambda, SQS, SNS, Worker or CronJob', '{ "kinds": { "Lambda": "arn", "SQS": "arn", "SNS": "arn", "Worker": "arn", "CronJob": "taskDefinitionArn" } }', 22)
mark_multi('EventBridge', 'SQS component that receives events', '{ "kinds": { "SQS": "arn" } }', 22)
mark_multi('Lambda', 'The queue, topic, bucket', '{ "kinds": { "SQS": "arn", "SNS": "arn", "S3": "arn", "DynamoDB": "streamArn", "MSK": "arn", "Kafka": "arn", "EventBridge": "arn" } }', 16)
p='schemas/defs.schema.json'; s=open(p).read()
old='"source": { "$ref": "#/definitions/componentTarget", "description": "The SQS queue: <service>/<component> or valueFrom." },'
assert s.count(old)==1
s=s.replace(old,'"source": {\n              "$ref": "#/definitions/componentTarget",\n              "x-deployer-reference": { "kinds": { "SQS": "name" } },\n              "description": "The SQS queue: <service>/<component> or valueFrom."\n            },')
open(p,'w').write(s)
