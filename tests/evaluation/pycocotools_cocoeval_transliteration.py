"""A transliteration of pycocotools (cocodataset/cocoapi PythonAPI/pycocotools/coco.py and cocoeval.py)
for bbox and segm evaluation, in pure Python + numpy, used as the reference for segtune's C++
evaluator. The C mask functions (maskApi.c rleFrString, rleToBbox, rleArea, rleIou, rleMerge,
rleFrPoly, bbIou) are transliterated to Python too (rleFrPoly from tests/data/).

Kept from the reference, line by line: COCO.createIndex / getImgIds / getCatIds / getAnnIds /
loadAnns, COCO.loadRes (bbox branch), COCOeval._prepare / evaluate / computeIoU / evaluateImg /
accumulate / summarize. maskUtils.iou for boxes is maskApi.c bbIou transliterated. Differences: no
printing of progress, the plotting/keypoint parts are left out, and results on images absent from the
ground truth are dropped (pycocotools asserts) so both sides can be run on the same file.

Usage: pycocotools_cocoeval_transliteration.py GT.json RESULTS.json OUT.json [--max-images N] [--type bbox|segm]
OUT.json: {"stats": [12 floats], "seconds": evaluate+accumulate wall time}
"""
import copy
import itertools
import json
import sys
import time
from collections import defaultdict

import os

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'data'))
from maskapi_frpoly_transliteration import rle_fr_poly  # noqa: E402

U32 = 0xFFFFFFFF


class RLE:
    def __init__(self, h, w, cnts):
        self.h, self.w, self.cnts = h, w, cnts


def rleFrString(s, h, w):
    cnts = []
    p = 0
    while p < len(s):
        x = 0
        k = 0
        more = 1
        while more:
            c = ord(s[p]) - 48
            x |= (c & 0x1f) << 5 * k
            more = c & 0x20
            p += 1
            k += 1
            if not more and (c & 0x10):
                x |= -1 << 5 * k
        if len(cnts) > 2:
            x += cnts[-2]
        cnts.append(x & U32)
    return RLE(h, w, cnts)


def rleArea(R):
    return sum(R.cnts[1::2])


def rleToBbox(R):
    h, w, m = R.h, R.w, len(R.cnts)
    m = (m // 2) * 2
    xs, ys, xe, ye, cc = w, h, 0, 0, 0
    if m == 0:
        return [0.0, 0.0, 0.0, 0.0]
    xp = 0
    for j in range(m):
        cc += R.cnts[j]
        t = cc - j % 2
        y = t % h
        x = (t - y) // h
        if j % 2 == 0:
            xp = x
        elif xp < x:
            ys = 0
            ye = h - 1
        xs = min(xs, x)
        xe = max(xe, x)
        ys = min(ys, y)
        ye = max(ye, y)
    return [float(xs), float(ys), float(xe - xs + 1), float(ye - ys + 1)]


def rleMerge(Rs):
    if len(Rs) == 1:
        return Rs[0]
    h, w = Rs[0].h, Rs[0].w
    cnts = list(Rs[0].cnts)
    for B in Rs[1:]:
        if B.h != h or B.w != w:
            return RLE(0, 0, [])
        A = cnts
        ca, cb = A[0], B.cnts[0]
        v = va = vb = 0
        a = b = 1
        cc = 0
        ct = 1
        out = []
        while ct > 0:
            c = min(ca, cb)
            cc += c
            ct = 0
            ca -= c
            if not ca and a < len(A):
                ca = A[a]
                a += 1
                va = not va
            ct += ca
            cb -= c
            if not cb and b < len(B.cnts):
                cb = B.cnts[b]
                b += 1
                vb = not vb
            ct += cb
            vp = v
            v = va or vb
            if v != vp or ct == 0:
                out.append(cc)
                cc = 0
        cnts = out
    return RLE(h, w, cnts)


def rleIou(dt, gt, iscrowd):
    m, n = len(dt), len(gt)
    o = bbIou([rleToBbox(d) for d in dt], [rleToBbox(g) for g in gt], iscrowd)
    for g in range(n):
        for d in range(m):
            if not o[d, g] > 0:
                continue
            if dt[d].h != gt[g].h or dt[d].w != gt[g].w:
                o[d, g] = -1
                continue
            A, B = dt[d].cnts, gt[g].cnts
            ca, cb = A[0], B[0]
            ka, kb = len(A), len(B)
            va = vb = 0
            a = b = 1
            i = u = 0
            ct = 1
            while ct > 0:
                c = min(ca, cb)
                if va or vb:
                    u += c
                    if va and vb:
                        i += c
                ct = 0
                ca -= c
                if not ca and a < ka:
                    ca = A[a]
                    a += 1
                    va = not va
                ct += ca
                cb -= c
                if not cb and b < kb:
                    cb = B[b]
                    b += 1
                    vb = not vb
                ct += cb
            if i == 0:
                u = 1
            elif iscrowd[g]:
                u = rleArea(dt[d])
            o[d, g] = i / u
    return o


def annToRLE(coco, ann):
    """COCO.annToRLE + frPyObjects (polygons, boxes, uncompressed RLE) + the string decoding."""
    t = coco.imgs[ann['image_id']]
    h, w = t['height'], t['width']
    segm = ann['segmentation']
    if isinstance(segm, RLE):  # Already converted (an annotation listed twice).
        return segm
    if type(segm) == list:
        if len(segm[0]) == 4:
            rles = [rle_fr_poly([b[0], b[1], b[0], b[1] + b[3], b[0] + b[2], b[1] + b[3], b[0] + b[2], b[1]], 4, h, w)
                    for b in segm]
        else:
            rles = [rle_fr_poly(p, len(p) // 2, h, w) for p in segm]
        return rleMerge([RLE(h, w, c) for c in rles])
    if type(segm['counts']) == list:
        return RLE(segm['size'][0], segm['size'][1], list(segm['counts']))
    return rleFrString(segm['counts'], segm['size'][0], segm['size'][1])


class COCO:
    def __init__(self, annotation_file=None):
        self.dataset, self.anns, self.cats, self.imgs = dict(), dict(), dict(), dict()
        self.imgToAnns, self.catToImgs = defaultdict(list), defaultdict(list)
        if annotation_file is not None:
            with open(annotation_file, 'r') as f:
                dataset = json.load(f)
            self.dataset = dataset
            self.createIndex()

    def createIndex(self):
        anns, cats, imgs = {}, {}, {}
        imgToAnns, catToImgs = defaultdict(list), defaultdict(list)
        if 'annotations' in self.dataset:
            for ann in self.dataset['annotations']:
                imgToAnns[ann['image_id']].append(ann)
                anns[ann['id']] = ann
        if 'images' in self.dataset:
            for img in self.dataset['images']:
                imgs[img['id']] = img
        if 'categories' in self.dataset:
            for cat in self.dataset['categories']:
                cats[cat['id']] = cat
        if 'annotations' in self.dataset and 'categories' in self.dataset:
            for ann in self.dataset['annotations']:
                catToImgs[ann['category_id']].append(ann['image_id'])
        self.anns = anns
        self.imgToAnns = imgToAnns
        self.catToImgs = catToImgs
        self.imgs = imgs
        self.cats = cats

    def getAnnIds(self, imgIds=[], catIds=[], areaRng=[], iscrowd=None):
        imgIds = imgIds if type(imgIds) == list else [imgIds]
        catIds = catIds if type(catIds) == list else [catIds]
        if len(imgIds) == len(catIds) == len(areaRng) == 0:
            anns = self.dataset['annotations']
        else:
            if not len(imgIds) == 0:
                lists = [self.imgToAnns[imgId] for imgId in imgIds if imgId in self.imgToAnns]
                anns = list(itertools.chain.from_iterable(lists))
            else:
                anns = self.dataset['annotations']
            anns = anns if len(catIds) == 0 else [ann for ann in anns if ann['category_id'] in catIds]
            anns = anns if len(areaRng) == 0 else [ann for ann in anns if ann['area'] > areaRng[0] and ann['area'] < areaRng[1]]
        if not iscrowd == None:
            ids = [ann['id'] for ann in anns if ann['iscrowd'] == iscrowd]
        else:
            ids = [ann['id'] for ann in anns]
        return ids

    def getCatIds(self, catNms=[], supNms=[], catIds=[]):
        cats = self.dataset['categories']
        return [cat['id'] for cat in cats]

    def getImgIds(self, imgIds=[], catIds=[]):
        return self.imgs.keys()

    def loadAnns(self, ids=[]):
        if type(ids) == list:
            return [self.anns[id] for id in ids]
        elif type(ids) == int:
            return [self.anns[ids]]

    def loadRes(self, resFile):
        res = COCO()
        res.dataset['images'] = [img for img in self.dataset['images']]
        with open(resFile) as f:
            anns = json.load(f)
        assert type(anns) == list, 'results in not an array of objects'
        # segtune: drop results on unknown images instead of asserting (reported by the C++ side).
        known = set(self.getImgIds())
        anns = [ann for ann in anns if ann['image_id'] in known]
        if len(anns) > 0 and 'bbox' in anns[0] and not anns[0]['bbox'] == []:
            res.dataset['categories'] = copy.deepcopy(self.dataset['categories'])
            for id, ann in enumerate(anns):
                bb = ann['bbox']
                x1, x2, y1, y2 = [bb[0], bb[0] + bb[2], bb[1], bb[1] + bb[3]]
                if not 'segmentation' in ann:
                    ann['segmentation'] = [[x1, y1, x1, y2, x2, y2, x2, y1]]
                ann['area'] = bb[2] * bb[3]
                ann['id'] = id + 1
                ann['iscrowd'] = 0
        elif len(anns) > 0 and 'segmentation' in anns[0]:
            res.dataset['categories'] = copy.deepcopy(self.dataset['categories'])
            for id, ann in enumerate(anns):
                # maskUtils.area / toBbox on the compressed RLE.
                R = annToRLE(self, ann)
                ann['area'] = float(rleArea(R))
                if not 'bbox' in ann:
                    ann['bbox'] = rleToBbox(R)
                ann['id'] = id + 1
                ann['iscrowd'] = 0
        res.dataset['annotations'] = anns
        res.createIndex()
        return res


def bbIou(dt, gt, iscrowd):
    """maskApi.c bbIou, returning the (m, n) matrix as maskUtils.iou does."""
    m, n = len(dt), len(gt)
    o = np.zeros((m, n))
    for g in range(n):
        G = gt[g]
        ga = G[2] * G[3]
        crowd = iscrowd[g]
        for d in range(m):
            D = dt[d]
            da = D[2] * D[3]
            w = min(D[2] + D[0], G[2] + G[0]) - max(D[0], G[0])
            if w <= 0:
                continue
            h = min(D[3] + D[1], G[3] + G[1]) - max(D[1], G[1])
            if h <= 0:
                continue
            i = w * h
            u = da if crowd else da + ga - i
            o[d, g] = i / u
    return o


def maskUtils_iou(d, g, iscrowd):
    if len(d) > 0 and isinstance(d[0], RLE) or len(g) > 0 and isinstance(g[0], RLE):
        if len(d) == 0 or len(g) == 0:
            return []
        return rleIou(d, g, iscrowd)
    d = [[float(v) for v in b] for b in d]
    g = [[float(v) for v in b] for b in g]
    if len(d) == 0 or len(g) == 0:
        return []
    return bbIou(d, g, iscrowd)


class Params:
    def __init__(self, iouType='bbox'):
        self.imgIds = []
        self.catIds = []
        self.iouThrs = np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True)
        self.recThrs = np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1, endpoint=True)
        self.maxDets = [1, 10, 100]
        self.areaRng = [[0 ** 2, 1e5 ** 2], [0 ** 2, 32 ** 2], [32 ** 2, 96 ** 2], [96 ** 2, 1e5 ** 2]]
        self.areaRngLbl = ['all', 'small', 'medium', 'large']
        self.useCats = 1
        self.iouType = iouType


class COCOeval:
    def __init__(self, cocoGt=None, cocoDt=None, iouType='bbox'):
        self.cocoGt = cocoGt
        self.cocoDt = cocoDt
        self.evalImgs = defaultdict(list)
        self.eval = {}
        self._gts = defaultdict(list)
        self._dts = defaultdict(list)
        self.params = Params(iouType=iouType)
        self._paramsEval = {}
        self.stats = []
        self.ious = {}
        if not cocoGt is None:
            self.params.imgIds = sorted(cocoGt.getImgIds())
            self.params.catIds = sorted(cocoGt.getCatIds())

    def _prepare(self):
        p = self.params
        if p.useCats:
            gts = self.cocoGt.loadAnns(self.cocoGt.getAnnIds(imgIds=p.imgIds, catIds=p.catIds))
            dts = self.cocoDt.loadAnns(self.cocoDt.getAnnIds(imgIds=p.imgIds, catIds=p.catIds))
        else:
            gts = self.cocoGt.loadAnns(self.cocoGt.getAnnIds(imgIds=p.imgIds))
            dts = self.cocoDt.loadAnns(self.cocoDt.getAnnIds(imgIds=p.imgIds))
        if p.iouType == 'segm':
            for ann in gts:
                ann['segmentation'] = annToRLE(self.cocoGt, ann)
            for ann in dts:
                ann['segmentation'] = annToRLE(self.cocoDt, ann)
        for gt in gts:
            gt['ignore'] = gt['ignore'] if 'ignore' in gt else 0
            gt['ignore'] = 'iscrowd' in gt and gt['iscrowd']
        self._gts = defaultdict(list)
        self._dts = defaultdict(list)
        for gt in gts:
            self._gts[gt['image_id'], gt['category_id']].append(gt)
        for dt in dts:
            self._dts[dt['image_id'], dt['category_id']].append(dt)
        self.evalImgs = defaultdict(list)
        self.eval = {}

    def evaluate(self):
        p = self.params
        p.imgIds = list(np.unique(p.imgIds))
        if p.useCats:
            p.catIds = list(np.unique(p.catIds))
        p.maxDets = sorted(p.maxDets)
        self.params = p
        self._prepare()
        catIds = p.catIds if p.useCats else [-1]
        computeIoU = self.computeIoU
        self.ious = {(imgId, catId): computeIoU(imgId, catId) for imgId in p.imgIds for catId in catIds}
        evaluateImg = self.evaluateImg
        maxDet = p.maxDets[-1]
        self.evalImgs = [evaluateImg(imgId, catId, areaRng, maxDet)
                         for catId in catIds
                         for areaRng in p.areaRng
                         for imgId in p.imgIds]
        self._paramsEval = copy.deepcopy(self.params)

    def computeIoU(self, imgId, catId):
        p = self.params
        if p.useCats:
            gt = self._gts[imgId, catId]
            dt = self._dts[imgId, catId]
        else:
            gt = [_ for cId in p.catIds for _ in self._gts[imgId, cId]]
            dt = [_ for cId in p.catIds for _ in self._dts[imgId, cId]]
        if len(gt) == 0 and len(dt) == 0:
            return []
        inds = np.argsort([-d['score'] for d in dt], kind='mergesort')
        dt = [dt[i] for i in inds]
        if len(dt) > p.maxDets[-1]:
            dt = dt[0:p.maxDets[-1]]
        if p.iouType == 'segm':
            g = [g['segmentation'] for g in gt]
            d = [d['segmentation'] for d in dt]
        else:
            g = [g['bbox'] for g in gt]
            d = [d['bbox'] for d in dt]
        iscrowd = [int(o['iscrowd']) for o in gt]
        ious = maskUtils_iou(d, g, iscrowd)
        return ious

    def evaluateImg(self, imgId, catId, aRng, maxDet):
        p = self.params
        if p.useCats:
            gt = self._gts[imgId, catId]
            dt = self._dts[imgId, catId]
        else:
            gt = [_ for cId in p.catIds for _ in self._gts[imgId, cId]]
            dt = [_ for cId in p.catIds for _ in self._dts[imgId, cId]]
        if len(gt) == 0 and len(dt) == 0:
            return None
        for g in gt:
            if g['ignore'] or (g['area'] < aRng[0] or g['area'] > aRng[1]):
                g['_ignore'] = 1
            else:
                g['_ignore'] = 0
        gtind = np.argsort([g['_ignore'] for g in gt], kind='mergesort')
        gt = [gt[i] for i in gtind]
        dtind = np.argsort([-d['score'] for d in dt], kind='mergesort')
        dt = [dt[i] for i in dtind[0:maxDet]]
        iscrowd = [int(o['iscrowd']) for o in gt]
        ious = self.ious[imgId, catId][:, gtind] if len(self.ious[imgId, catId]) > 0 else self.ious[imgId, catId]
        T = len(p.iouThrs)
        G = len(gt)
        D = len(dt)
        gtm = np.zeros((T, G))
        dtm = np.zeros((T, D))
        gtIg = np.array([g['_ignore'] for g in gt])
        dtIg = np.zeros((T, D))
        if not len(ious) == 0:
            for tind, t in enumerate(p.iouThrs):
                for dind, d in enumerate(dt):
                    iou = min([t, 1 - 1e-10])
                    m = -1
                    for gind, g in enumerate(gt):
                        if gtm[tind, gind] > 0 and not iscrowd[gind]:
                            continue
                        if m > -1 and gtIg[m] == 0 and gtIg[gind] == 1:
                            break
                        if ious[dind, gind] < iou:
                            continue
                        iou = ious[dind, gind]
                        m = gind
                    if m == -1:
                        continue
                    dtIg[tind, dind] = gtIg[m]
                    dtm[tind, dind] = gt[m]['id']
                    gtm[tind, m] = d['id']
        a = np.array([d['area'] < aRng[0] or d['area'] > aRng[1] for d in dt]).reshape((1, len(dt)))
        dtIg = np.logical_or(dtIg, np.logical_and(dtm == 0, np.repeat(a, T, 0)))
        return {
            'image_id': imgId,
            'category_id': catId,
            'aRng': aRng,
            'maxDet': maxDet,
            'dtIds': [d['id'] for d in dt],
            'gtIds': [g['id'] for g in gt],
            'dtMatches': dtm,
            'gtMatches': gtm,
            'dtScores': [d['score'] for d in dt],
            'gtIgnore': gtIg,
            'dtIgnore': dtIg,
        }

    def accumulate(self, p=None):
        if p is None:
            p = self.params
        p.catIds = p.catIds if p.useCats == 1 else [-1]
        T = len(p.iouThrs)
        R = len(p.recThrs)
        K = len(p.catIds) if p.useCats else 1
        A = len(p.areaRng)
        M = len(p.maxDets)
        precision = -np.ones((T, R, K, A, M))
        recall = -np.ones((T, K, A, M))
        scores = -np.ones((T, R, K, A, M))
        _pe = self._paramsEval
        catIds = _pe.catIds if _pe.useCats else [-1]
        setK = set(catIds)
        setA = set(map(tuple, _pe.areaRng))
        setM = set(_pe.maxDets)
        setI = set(_pe.imgIds)
        k_list = [n for n, k in enumerate(p.catIds) if k in setK]
        m_list = [m for n, m in enumerate(p.maxDets) if m in setM]
        a_list = [n for n, a in enumerate(map(lambda x: tuple(x), p.areaRng)) if a in setA]
        i_list = [n for n, i in enumerate(p.imgIds) if i in setI]
        I0 = len(_pe.imgIds)
        A0 = len(_pe.areaRng)
        for k, k0 in enumerate(k_list):
            Nk = k0 * A0 * I0
            for a, a0 in enumerate(a_list):
                Na = a0 * I0
                for m, maxDet in enumerate(m_list):
                    E = [self.evalImgs[Nk + Na + i] for i in i_list]
                    E = [e for e in E if not e is None]
                    if len(E) == 0:
                        continue
                    dtScores = np.concatenate([e['dtScores'][0:maxDet] for e in E])
                    inds = np.argsort(-dtScores, kind='mergesort')
                    dtScoresSorted = dtScores[inds]
                    dtm = np.concatenate([e['dtMatches'][:, 0:maxDet] for e in E], axis=1)[:, inds]
                    dtIg = np.concatenate([e['dtIgnore'][:, 0:maxDet] for e in E], axis=1)[:, inds]
                    gtIg = np.concatenate([e['gtIgnore'] for e in E])
                    npig = np.count_nonzero(gtIg == 0)
                    if npig == 0:
                        continue
                    tps = np.logical_and(dtm, np.logical_not(dtIg))
                    fps = np.logical_and(np.logical_not(dtm), np.logical_not(dtIg))
                    tp_sum = np.cumsum(tps, axis=1).astype(dtype=float)
                    fp_sum = np.cumsum(fps, axis=1).astype(dtype=float)
                    for t, (tp, fp) in enumerate(zip(tp_sum, fp_sum)):
                        tp = np.array(tp)
                        fp = np.array(fp)
                        nd = len(tp)
                        rc = tp / npig
                        pr = tp / (fp + tp + np.spacing(1))
                        q = np.zeros((R,))
                        ss = np.zeros((R,))
                        if nd:
                            recall[t, k, a, m] = rc[-1]
                        else:
                            recall[t, k, a, m] = 0
                        pr = pr.tolist()
                        q = q.tolist()
                        for i in range(nd - 1, 0, -1):
                            if pr[i] > pr[i - 1]:
                                pr[i - 1] = pr[i]
                        inds = np.searchsorted(rc, p.recThrs, side='left')
                        try:
                            for ri, pi in enumerate(inds):
                                q[ri] = pr[pi]
                                ss[ri] = dtScoresSorted[pi]
                        except:
                            pass
                        precision[t, :, k, a, m] = np.array(q)
                        scores[t, :, k, a, m] = np.array(ss)
        self.eval = {
            'params': p,
            'counts': [T, R, K, A, M],
            'precision': precision,
            'recall': recall,
            'scores': scores,
        }

    def summarize(self):
        def _summarize(ap=1, iouThr=None, areaRng='all', maxDets=100):
            p = self.params
            aind = [i for i, aRng in enumerate(p.areaRngLbl) if aRng == areaRng]
            mind = [i for i, mDet in enumerate(p.maxDets) if mDet == maxDets]
            if ap == 1:
                s = self.eval['precision']
                if iouThr is not None:
                    t = np.where(iouThr == p.iouThrs)[0]
                    s = s[t]
                s = s[:, :, :, aind, mind]
            else:
                s = self.eval['recall']
                if iouThr is not None:
                    t = np.where(iouThr == p.iouThrs)[0]
                    s = s[t]
                s = s[:, :, aind, mind]
            if len(s[s > -1]) == 0:
                mean_s = -1
            else:
                mean_s = np.mean(s[s > -1])
            return mean_s

        stats = np.zeros((12,))
        stats[0] = _summarize(1)
        stats[1] = _summarize(1, iouThr=.5, maxDets=self.params.maxDets[2])
        stats[2] = _summarize(1, iouThr=.75, maxDets=self.params.maxDets[2])
        stats[3] = _summarize(1, areaRng='small', maxDets=self.params.maxDets[2])
        stats[4] = _summarize(1, areaRng='medium', maxDets=self.params.maxDets[2])
        stats[5] = _summarize(1, areaRng='large', maxDets=self.params.maxDets[2])
        stats[6] = _summarize(0, maxDets=self.params.maxDets[0])
        stats[7] = _summarize(0, maxDets=self.params.maxDets[1])
        stats[8] = _summarize(0, maxDets=self.params.maxDets[2])
        stats[9] = _summarize(0, areaRng='small', maxDets=self.params.maxDets[2])
        stats[10] = _summarize(0, areaRng='medium', maxDets=self.params.maxDets[2])
        stats[11] = _summarize(0, areaRng='large', maxDets=self.params.maxDets[2])
        self.stats = stats


def main():
    gt_path, res_path, out_path = sys.argv[1:4]
    max_images = None
    if '--max-images' in sys.argv:
        max_images = int(sys.argv[sys.argv.index('--max-images') + 1])
    gt = COCO(gt_path)
    dt = gt.loadRes(res_path)
    start = time.time()
    iou_type = sys.argv[sys.argv.index('--type') + 1] if '--type' in sys.argv else 'bbox'
    E = COCOeval(gt, dt, iou_type)
    if max_images is not None:
        E.params.imgIds = sorted(gt.getImgIds())[:max_images]
    if '--no-cats' in sys.argv:
        E.params.useCats = 0
    E.evaluate()
    E.accumulate()
    E.summarize()
    seconds = time.time() - start
    json.dump({'stats': [float(s) for s in E.stats], 'seconds': seconds}, open(out_path, 'w'))


if __name__ == '__main__':
    main()
