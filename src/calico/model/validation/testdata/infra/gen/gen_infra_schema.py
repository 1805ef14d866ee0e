import yaml, json, re
kinds = {'IPPool':'ippools','IPReservation':'ipreservations','IPAMConfiguration':'ipamconfigurations','BGPPeer':'bgppeers','BGPConfiguration':'bgpconfigurations','BGPFilter':'bgpfilters','FelixConfiguration':'felixconfigurations','ClusterInformation':'clusterinformations','KubeControllersConfiguration':'kubecontrollersconfigurations','CalicoNodeStatus':'caliconodestatuses'}
tags=json.load(open('tags.json'))
def conv(kind, name, s):
    o={}
    t=s.get('type')
    if s.get('x-kubernetes-int-or-string'): t='intorstr'
    if t: o['t']=t
    for k,a in (('format','fmt'),('pattern','pat'),('minimum','min'),('maximum','max'),('maxLength','maxL'),('minLength','minL'),('maxItems','maxI'),('minItems','minI'),('default','def'),('enum','e'),('required','req'),('maxProperties','maxP'),('minProperties','minP')):
        if k in s: o[a]=s[k]
    if name and kind in tags and name in tags[kind]:
        l=tags[kind][name]
        gt,vt,oe=l[0]
        if all(x==l[0] for x in l):
            if oe and not gt.startswith('*'): o['oe']=1
            if 'Duration' in gt: o['dur']=1
            if gt.startswith('*'): o['ptr']=1
            if vt and vt not in ('omitempty',): o['go']=vt
            for u,mx in (('uint8',255),('uint16',65535),('uint32',4294967295)):
                if gt.endswith(u): o['umax']=mx
    if 'properties' in s:
        o['p']={k:conv(kind,k,v) for k,v in s['properties'].items()}
    if 'items' in s: o['i']=conv(kind,None,s['items'])
    if isinstance(s.get('additionalProperties'),dict): o['m']=conv(kind,None,s['additionalProperties'])
    if s.get('x-kubernetes-preserve-unknown-fields'): o['any']=1
    if s.get('x-kubernetes-list-type')=='set': o['set']=1
    return o
lines=[]
for kind, pl in kinds.items():
    d = yaml.safe_load(open(pl+'.yaml'))
    sch = d['spec']['versions'][0]['schema']['openAPIV3Schema']
    o={}
    for sec in ('spec','status'):
        if sec in sch['properties']: o[sec]=conv(kind, None, sch['properties'][sec])
    js=json.dumps(o,separators=(',',':'))
    assert ')json"' not in js
    print(kind, len(js))
    lines.append((kind,js))
with open('infra_schema_data.cc','w') as f:
    f.write('''// Compact OpenAPI schemas (types, enums, patterns, bounds, defaults) of the infra-family CRDs of
// projectcalico.org/v3 (api/config/crd), with the Go decoder types (durations, unsigned widths) and
// go-playground validator tags of api/pkg/apis/projectcalico/v3 folded in as "dur", "umax" and "go".
// Generated from the CRD YAML (descriptions dropped) by a throwaway script; see infra_schema.h.
// Descriptions and CEL rules are not kept: the CEL rules are implemented by hand in
// infra_family.cc. Regenerate with tools in the commit message if the API changes.
#include <string_view>\n\n#include "calico/model/validation/infra_schema.h"

namespace calico::model::validation {

std::string_view InfraSchemaText(std::string_view kind) {
''')
    for kind,js in lines:
        f.write(f'  if (kind == "{kind}") {{\n    return R"json({js})json";\n  }}\n')
    f.write('  return {};\n}\n\n}  // namespace calico::model::validation\n')
