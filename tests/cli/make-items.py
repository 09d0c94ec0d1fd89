#!/usr/bin/env python3
"""Write a STAC FeatureCollection of copies of one item under new ids, and
the matching item list, for batch tests: make-items.py TEMPLATE OUT.json
LIST.txt ID...  (an ID of the form PREFIX*N expands to PREFIX1..PREFIXN)."""
import json
import sys


def main():
    template, out, listfile = sys.argv[1:4]
    ids = []
    for spec in sys.argv[4:]:
        if '*' in spec:
            prefix, n = spec.split('*')
            ids += ['%s%d' % (prefix, i) for i in range(1, int(n) + 1)]
        else:
            ids.append(spec)
    with open(template, encoding='utf-8') as f:
        item = json.load(f)
    feats = []
    for i in ids:
        it = dict(item)
        it['id'] = i
        feats.append(it)
    with open(out, 'w', encoding='utf-8') as f:
        json.dump({'type': 'FeatureCollection', 'features': feats}, f)
    with open(listfile, 'w', encoding='utf-8') as f:
        f.write(''.join(i + '\n' for i in ids))


if __name__ == '__main__':
    main()
