// The built-in pipelines; each is defined next to its front end (vision.cpp, voice.cpp, lidar.cpp).
#pragma once

#include "imprecise/data/pipeline.hpp"

namespace imprecise::data {

Pipeline vision_pipeline();  ///< Fashion-MNIST (Debian's dataset-fashion-mnist), multi-exit CNN
Pipeline voice_pipeline();   ///< synthetic keyword spotting (espeak-ng), log-mel + multi-exit CNN
Pipeline lidar_pipeline();   ///< synthetic spinning-LIDAR objects, multi-exit PointNet

}  // namespace imprecise::data
