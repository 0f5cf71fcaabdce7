// The built-in pipelines; each is defined next to its front end (vision.cpp, voice.cpp, lidar.cpp).
#pragma once

#include "imprecise/data/pipeline.hpp"

namespace imprecise::data {

Pipeline vision_pipeline();  ///< Fashion-MNIST (Debian's dataset-fashion-mnist) under seeded camera corruptions, 4-exit ResNet
Pipeline voice_pipeline();   ///< synthetic keyword spotting (espeak-ng), log-mel + multi-exit CNN
Pipeline lidar_pipeline();   ///< synthetic spinning-LIDAR objects (12 classes), 4-exit point network

}  // namespace imprecise::data
