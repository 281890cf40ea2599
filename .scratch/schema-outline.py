import json,sys
defs=json.load(open('schemas/defs.schema.json'))['definitions']
def res(v):
    if '$ref' in v and v['$ref'].startswith('defs.schema.json#/definitions/'):
        n=v['$ref'].split('/')[-1]; d=dict(defs.get(n,{})); d.setdefault('description', v.get('description','')); d['_ref']=n; return d
    return v
def walk(o,depth,seen):
    o=res(o)
    for name,v in (o.get('properties') or {}).items():
        v=res(v)
        t=v.get('type') or ('enum' if 'enum' in v else ('oneOf' if 'oneOf' in v else ('anyOf' if 'anyOf' in v else '')))
        extra=''
        if 'enum' in v: extra=' '+str(v['enum'])
        if 'default' in v: extra+=' default='+json.dumps(v['default'])
        print('  '*depth+name, '-', t+(' @'+v['_ref'] if '_ref' in v else ''), extra, '|', v.get('description','')[:100])
        if depth<3 and v.get('_ref') not in seen:
            s2=seen|{v.get('_ref')}
            if v.get('type')=='object' or 'properties' in v: walk(v,depth+1,s2)
            if v.get('type')=='array' and isinstance(v.get('items'),dict): walk(v['items'],depth+1,s2)
            for alt in v.get('oneOf',[])+v.get('anyOf',[]):
                if isinstance(alt,dict) and ('properties' in alt or '$ref' in alt): walk(alt,depth+1,s2)
for k in sys.argv[1:]:
    s=json.load(open(f'schemas/{k}.schema.json'))
    print('==',k, json.dumps(s.get('x-deployer-target-outputs')))
    walk(s['properties']['spec'],0,set())
