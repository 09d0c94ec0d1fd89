#!/usr/bin/env python3
"""Make the generated STAC item variants next to the real fixture item.

Run from this folder: `python3 make-variants.py`. The output files are
committed; this script documents how they were made. Each variant is the
fixture item with another id, collection or geometry:

  poly-holes         Polygon with two holes, test-collection (written as is)
  multi-two          MultiPolygon of 2 parts, test-collection (refused without a hull)
  multi-one          MultiPolygon of 1 part, test-collection (written as that Polygon)
  ble-concave        concave Polygon, ble-collection (hull taken by --hull auto)
  no-collection      Polygon, no "collection" field (written as is)
  z-coords           Polygon with elevations, nws-fim-collection (hull, 2D)
  bad-unclosed       ring whose last position differs from the first
  bad-linestring     LineString geometry
  bad-null-geometry  geometry null
  degenerate-line    usgs-fim-collection, every position on one line (hull is a line)
  "café aoi ü"       id with spaces and unicode, test-collection Polygon
"""
import copy, json

with open('01080203-shvm3-usgs.json') as f:
    base = json.load(f)


def item(id_, collection, geometry, name=None):
    it = copy.deepcopy(base)
    it['id'] = id_
    it['assets'] = {}
    it['links'] = [l for l in it['links'] if l.get('rel') not in ('self', 'parent', 'collection', 'root')]
    if collection is None:
        it.pop('collection', None)
    else:
        it['collection'] = collection
        it['links'].append({'rel': 'collection', 'href': '../collection.json', 'type': 'application/json'})
    it['geometry'] = geometry
    if geometry and geometry.get('coordinates'):
        xs, ys = [], []
        def walk(c):
            if isinstance(c[0], (int, float)):
                xs.append(c[0]); ys.append(c[1])
            else:
                for d in c:
                    walk(d)
        walk(geometry['coordinates'])
        it['bbox'] = [min(xs), min(ys), max(xs), max(ys)]
    else:
        it.pop('bbox', None)
    with open((name or id_) + '.json', 'w') as f:
        json.dump(it, f, indent=1, ensure_ascii=False)
        f.write('\n')


sq = [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]
hole1 = [[2, 2], [2, 4], [4, 4], [4, 2], [2, 2]]
hole2 = [[6, 6], [6, 8], [8, 8], [8, 6], [6, 6]]
item('poly-holes', 'test-collection', {'type': 'Polygon', 'coordinates': [sq, hole1, hole2]})
item('multi-two', 'test-collection', {'type': 'MultiPolygon', 'coordinates': [
    [sq], [[[20, 0], [21, 0], [21, 1], [20, 1], [20, 0]]]]})
item('multi-one', 'test-collection', {'type': 'MultiPolygon', 'coordinates': [[sq, hole1]]})
item('ble-concave', 'ble-collection', {'type': 'Polygon', 'coordinates': [
    [[0, 0], [4, 0], [4, 4], [2, 1], [0, 4], [0, 0]]]})
item('no-collection', None, {'type': 'Polygon', 'coordinates': [
    [[-72.7, 42.6], [-72.6, 42.6], [-72.6, 42.7], [-72.7, 42.6]]]})
item('z-coords', 'nws-fim-collection', {'type': 'Polygon', 'coordinates': [
    [[1, 1, 100], [3, 1, 101], [3, 3, 102], [2, 2, 5], [1, 3, 103], [1, 1, 100]]]})
item('bad-unclosed', 'test-collection', {'type': 'Polygon', 'coordinates': [
    [[0, 0], [1, 0], [1, 1], [0, 1]]]})
item('bad-linestring', 'test-collection', {'type': 'LineString', 'coordinates': [[0, 0], [1, 1]]})
item('bad-null-geometry', 'test-collection', None)
item('degenerate-line', 'usgs-fim-collection', {'type': 'Polygon', 'coordinates': [
    [[0, 0], [1, 1], [2, 2], [3, 3], [0, 0]]]})
item('café aoi ü', 'test-collection', {'type': 'Polygon', 'coordinates': [
    [[5, 5], [6, 5], [6, 6], [5, 5]]]}, name='unicode-id')
