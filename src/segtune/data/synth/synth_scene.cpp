#include "segtune/data/synth/synth_scene.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "segtune/core/error.h"
#include "segtune/data/synth/synth_background.h"
#include "segtune/data/synth/synth_paint.h"

namespace segtune::synth {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kMinVisibleFraction = 0.5;  // Earlier objects keep at least this much showing.

// Rotation in degrees for a kind: upright things mostly stand (sometimes lie down), the rest spin.
double PickAngle(ShapeKind kind, Random& rng) {
  switch (kind) {
    case ShapeKind::kBottle:
    case ShapeKind::kCan:
      return rng.Chance(0.25) ? (rng.Chance(0.5) ? 90 : -90) + rng.Normal(0, 10) : rng.Normal(0, 12);
    case ShapeKind::kCup: return rng.Normal(0, 10);
    case ShapeKind::kSign: return rng.Normal(0, 6);
    case ShapeKind::kBox: return rng.Uniform(-40, 40);
    case ShapeKind::kBall: return rng.Uniform(0, 360);
  }
  return 0;
}

// An object ready to paint: its sprite, the sprite-to-image transform and its integer polygon.
struct Placement {
  Sprite sprite;
  cv::Mat transform;  // 2x3, sprite canvas -> image.
  std::vector<cv::Point> polygon;
  cv::Rect box;       // Bounding box of the polygon, inside the image.
  cv::Mat mask;       // CV_8U over `box`: 255 inside the polygon.
};

// Rotates the sprite about its centre by `angle` and moves that centre to `center`.
Placement Place(Sprite sprite, double angle, cv::Point2d center) {
  Placement p;
  const cv::Point2f pivot(sprite.appearance.cols / 2.0f, sprite.appearance.rows / 2.0f);
  p.transform = cv::getRotationMatrix2D(pivot, angle, 1.0);
  p.transform.at<double>(0, 2) += center.x - pivot.x;
  p.transform.at<double>(1, 2) += center.y - pivot.y;
  std::vector<cv::Point2f> moved;
  cv::transform(sprite.outline, moved, p.transform);
  for (const auto& q : moved) p.polygon.emplace_back(cvRound(q.x), cvRound(q.y));
  p.box = cv::boundingRect(p.polygon);
  p.sprite = std::move(sprite);
  return p;
}

void BuildMask(Placement& p) {
  p.mask = cv::Mat(p.box.size(), CV_8U, cv::Scalar(0));
  cv::fillPoly(p.mask, std::vector<std::vector<cv::Point>>{p.polygon}, cv::Scalar(255), cv::LINE_8, 0, -p.box.tl());
}

// True if painting `p` leaves every earlier object at least kMinVisibleFraction visible.
bool KeepsEarlierObjectsVisible(const Placement& p, const cv::Mat& instances, const std::vector<SceneObject>& objects) {
  std::vector<int> covered(objects.size() + 1, 0);
  const cv::Mat region = instances(p.box);
  for (int y = 0; y < p.box.height; ++y) {
    const uchar* m = p.mask.ptr<uchar>(y);
    const uchar* id = region.ptr<uchar>(y);
    for (int x = 0; x < p.box.width; ++x) {
      if (m[x] && id[x]) ++covered[id[x]];
    }
  }
  for (size_t i = 0; i < objects.size(); ++i) {
    if (objects[i].visible - covered[i + 1] < kMinVisibleFraction * objects[i].area) return false;
  }
  return true;
}

// A soft shadow of the silhouette, offset away from the light, darkening what is already there.
void CastShadow(cv::Mat& image, const Placement& p, cv::Point2d offset, double strength) {
  const int blur = std::max(3, (std::min(p.box.width, p.box.height) / 6) | 1);
  const int pad = blur + int(std::ceil(std::max(std::fabs(offset.x), std::fabs(offset.y))));
  const cv::Rect area = (p.box + cv::Size(2 * pad, 2 * pad) - cv::Point(pad, pad)) & cv::Rect(0, 0, image.cols, image.rows);
  cv::Mat shadow(area.size(), CV_32F, cv::Scalar(0));
  const cv::Point shift = p.box.tl() - area.tl() + cv::Point(cvRound(offset.x), cvRound(offset.y));
  cv::Mat mask_f;
  p.mask.convertTo(mask_f, CV_32F, 1.0 / 255);
  const cv::Rect dst = cv::Rect(shift, p.mask.size()) & cv::Rect(0, 0, area.width, area.height);
  if (dst.area() > 0) mask_f(dst - shift).copyTo(shadow(dst));
  cv::GaussianBlur(shadow, shadow, cv::Size(blur, blur), 0);
  cv::Mat roi = image(area);
  for (int y = 0; y < roi.rows; ++y) {
    auto* row = roi.ptr<cv::Vec3b>(y);
    const float* s = shadow.ptr<float>(y);
    for (int x = 0; x < roi.cols; ++x) row[x] = Scale(row[x], 1.0 - strength * s[x]);
  }
}

// Paints the sprite's pixels under the mask (blended by its opacity) and records labels/instances.
void Paint(Scene& scene, cv::Mat& instances, const Placement& p, int class_index, int instance_id) {
  cv::Mat shifted = p.transform.clone();
  shifted.at<double>(0, 2) -= p.box.x;
  shifted.at<double>(1, 2) -= p.box.y;
  cv::Mat patch;
  cv::warpAffine(p.sprite.appearance, patch, shifted, p.box.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  cv::Mat roi = scene.image(p.box);
  const double a = p.sprite.opacity;
  for (int y = 0; y < roi.rows; ++y) {
    auto* dst = roi.ptr<cv::Vec3b>(y);
    const auto* src = patch.ptr<cv::Vec3b>(y);
    const uchar* m = p.mask.ptr<uchar>(y);
    for (int x = 0; x < roi.cols; ++x) {
      if (m[x]) dst[x] = a >= 1 ? src[x] : Mix(dst[x], src[x], a);
    }
  }
  scene.labels(p.box).setTo(cv::Scalar(class_index + 1), p.mask);
  instances(p.box).setTo(cv::Scalar(instance_id), p.mask);
}

// Tries to place one object of `kind`; returns false if no placement fits.
bool AddObject(Scene& scene, cv::Mat& instances, ShapeKind kind, int class_index, cv::Point2d shadow_offset,
               Random& rng) {
  const cv::Size size = scene.image.size();
  double extent = std::min(size.width, size.height) * rng.Uniform(0.25, 0.6);
  for (int attempt = 0; attempt < 12; ++attempt) {
    if (attempt % 4 == 3) extent *= 0.8;  // Too big or too crowded: try smaller.
    const double angle = PickAngle(kind, rng);
    Placement p = Place(DrawSprite(kind, extent, rng), angle, {0, 0});
    const cv::Rect box = p.box;
    const int room_x = size.width - 2 - box.width, room_y = size.height - 2 - box.height;
    if (room_x < 0 || room_y < 0) {
      extent *= 0.8;
      continue;
    }
    // Move the object so its box lands at a random place fully inside the image.
    const cv::Point2d center(1 - box.x + rng.Uniform(0, room_x), 1 - box.y + rng.Uniform(0, room_y));
    p = Place(std::move(p.sprite), angle, center);
    p.box &= cv::Rect(0, 0, size.width, size.height);
    BuildMask(p);
    if (!KeepsEarlierObjectsVisible(p, instances, scene.objects)) continue;
    CastShadow(scene.image, p, shadow_offset * (box.height / 10.0), rng.Uniform(0.25, 0.5));
    const int id = int(scene.objects.size()) + 1;
    Paint(scene, instances, p, class_index, id);
    SceneObject object;
    object.class_index = class_index;
    object.polygon = p.polygon;
    object.area = cv::countNonZero(p.mask);
    scene.objects.push_back(std::move(object));
    for (size_t i = 0; i < scene.objects.size(); ++i) {  // Recount what still shows.
      scene.objects[i].visible = cv::countNonZero(instances == int(i + 1));
    }
    return true;
  }
  return false;
}

// Camera: uneven light, a color cast, slight defocus and sensor noise. Labels are unaffected.
void ApplyCamera(cv::Mat& image, Random& rng) {
  Modulate(image, SmoothNoise(image.size(), 2, rng), rng.Uniform(0.05, 0.2));
  const cv::Scalar cast(1 + rng.Uniform(-0.07, 0.07), 1 + rng.Uniform(-0.04, 0.04), 1 + rng.Uniform(-0.07, 0.07));
  cv::multiply(image, cast, image);
  if (rng.Chance(0.5)) cv::GaussianBlur(image, image, cv::Size(3, 3), rng.Uniform(0.4, 0.8));
  AddNoise(image, rng.Uniform(1.5, 5), rng);
}

}  // namespace

Scene RenderScene(const std::vector<ShapeKind>& classes, cv::Size size, uint64_t seed, uint64_t index) {
  if (classes.empty()) throw UsageError("synthetic scene: at least one class is needed");
  if (size.width < 32 || size.height < 32) throw UsageError("synthetic scene: image size must be at least 32x32");
  if (classes.size() > 254) throw UsageError("synthetic scene: at most 254 classes");
  Random rng(MixSeed(seed, index));
  Scene scene;
  scene.image = RenderBackground(size, rng);
  scene.labels = cv::Mat(size, CV_8U, cv::Scalar(0));
  cv::Mat instances(size, CV_8U, cv::Scalar(0));
  const double light = rng.Uniform(0, 2 * kPi);
  const cv::Point2d shadow_offset(std::cos(light), std::abs(std::sin(light)) * 0.6 + 0.2);
  const int count = rng.Int(1, 4);
  for (int i = 0; i < count; ++i) {
    const int class_index = rng.Int(0, int(classes.size()) - 1);
    AddObject(scene, instances, classes[size_t(class_index)], class_index, shadow_offset, rng);
  }
  ApplyCamera(scene.image, rng);
  return scene;
}

cv::Mat RasterizeLabels(cv::Size size, const std::vector<SceneObject>& objects) {
  cv::Mat labels(size, CV_8U, cv::Scalar(0));
  for (const auto& o : objects) {
    cv::fillPoly(labels, std::vector<std::vector<cv::Point>>{o.polygon}, cv::Scalar(o.class_index + 1), cv::LINE_8);
  }
  return labels;
}

}  // namespace segtune::synth
