import re,json
files={'FelixConfiguration':'felixconfig','BGPPeer':'bgppeer','BGPConfiguration':'bgpconfig','KubeControllersConfiguration':'kubecontrollersconfig','IPPool':'ippool','IPAMConfiguration':'ipamconfig','BGPFilter':'bgpfilter','IPReservation':'ipreservation','CalicoNodeStatus':'caliconodestatus','ClusterInformation':'clusterinfo'}
res={}
for k,f in files.items():
    m={}
    for line in open(f+'.go'):
        mm=re.match(r'\s*(\w+)\s+(\S+)\s+`(.*)`',line)
        if not mm: continue
        tags=mm.group(3)
        j=re.search(r'json:"([^",]*)',tags); v=re.search(r'validate:"([^"]*)"',tags)
        if not j or not j.group(1): continue
        oe = bool(re.search(r'json:"[^"]*,omitempty', tags))
        m.setdefault(j.group(1),[]).append((mm.group(2), v.group(1) if v else '', oe))
    res[k]=m
json.dump(res,open('tags.json','w'),indent=0)

