"""Writes an index_ade20k.pkl shaped like the ADE20K 2021 release's (a dict: objectnames, per-image
lists, count arrays, a description dict) for tests/data/convert_ade20k_test.cpp, with Python's own
pickle and numpy, so the reader is tested on what they write rather than on hand-made bytes.

usage: ade20k_index_fixture.py OUT.pkl PROTOCOL KIND COUNT
  KIND: list (a list of str), object (numpy array of dtype object) or unicode (numpy dtype <U).
  Class c (1-based) is named "name <c>"; class 2978 "café, coffee shop"; classes 7 and 8 share "rock".
"""
import pickle
import sys

import numpy as np

out, protocol, kind, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
names = ["name %d" % (i + 1) for i in range(count)]
if count >= 2978:
    names[2977] = "café, coffee shop"
names[6] = names[7] = "rock"
if kind == "object":
    objectnames = np.array(names, dtype=object)
elif kind == "unicode":
    objectnames = np.array(names)
else:
    objectnames = names
images = 3
index = {
    "filename": ["ADE_train_%08d.jpg" % (i + 1) for i in range(images)],
    "folder": ["ADE20K_2021_17_01/images/ADE/training/cultural/apse__indoor"] * images,
    "scene": ["/apse/indoor"] * images,
    "objectIsPart": np.zeros((count, images), dtype=np.uint8),
    "objectPresence": np.arange(count * images, dtype=np.int64).reshape(count, images),
    "objectcounts": np.ones(count, dtype=np.int64),
    "objectnames": objectnames,
    "proportionClassIsPart": np.zeros(count),
    "wordnet_found": np.ones(count, dtype=bool),
    "wordnet_synonyms": [set(["a", "b"])] * 2,
    "description": {"objectnames": "array of length C with the object class names."},
}
with open(out, "wb") as f:
    pickle.dump(index, f, protocol=protocol)
