// OpenCV behind assay_vision.h. Every entry point catches what OpenCV throws and turns it into
// a return value plus a per-thread message.
#include "assay_vision.h"

#include <opencv2/core.hpp>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <sstream>
#include <string>
#include <vector>

struct assay_gray_image {
    cv::Mat pixels;
};

struct assay_cascade {
    cv::CascadeClassifier classifier;
    cv::Size window;
};

namespace {

thread_local std::string lastError;

template <typename Result, typename Body>
Result guarded(Result failure, Body body) {
    try {
        return body();
    } catch (const cv::Exception &error) {
        lastError = error.msg.empty() ? std::string(error.what()) : error.msg;
    } catch (const std::exception &error) {
        lastError = error.what();
    } catch (...) {
        lastError = "unknown C++ exception";
    }
    return failure;
}

}  // namespace

extern "C" {

const char *assay_vision_version(void) { return CV_VERSION; }

void assay_vision_set_threads(int count) {
    guarded(0, [&] {
        cv::setNumThreads(count);
        return 0;
    });
}

const char *assay_vision_last_error(void) { return lastError.c_str(); }

assay_gray_image *assay_image_decode(const uint8_t *bytes, size_t count) {
    return guarded<assay_gray_image *>(nullptr, [&]() -> assay_gray_image * {
        if (bytes == nullptr || count == 0) {
            lastError = "no image bytes";
            return nullptr;
        }
        // imdecode reads the buffer without copying it.
        cv::Mat encoded(1, static_cast<int>(count), CV_8UC1, const_cast<uint8_t *>(bytes));
        cv::Mat pixels = cv::imdecode(encoded, cv::IMREAD_GRAYSCALE);
        if (pixels.empty()) {
            lastError = "not a decodable image (PNG, JPEG, BMP, TIFF, WebP …)";
            return nullptr;
        }
        return new assay_gray_image{pixels};
    });
}

int assay_image_width(const assay_gray_image *image) { return image->pixels.cols; }
int assay_image_height(const assay_gray_image *image) { return image->pixels.rows; }
void assay_image_free(assay_gray_image *image) { delete image; }

assay_cascade *assay_cascade_load(const char *path) {
    return guarded<assay_cascade *>(nullptr, [&]() -> assay_cascade * {
        auto *cascade = new assay_cascade;
        if (!cascade->classifier.load(path) || cascade->classifier.empty()) {
            delete cascade;
            lastError = std::string("cannot load cascade ") + path;
            return nullptr;
        }
        cascade->window = cascade->classifier.getOriginalWindowSize();
        return cascade;
    });
}

int assay_cascade_window_width(const assay_cascade *cascade) { return cascade->window.width; }
int assay_cascade_window_height(const assay_cascade *cascade) { return cascade->window.height; }
void assay_cascade_free(assay_cascade *cascade) { delete cascade; }

int assay_cascade_detect(
    assay_cascade *cascade, const assay_gray_image *image, double scale_factor, int min_neighbors, int min_size,
    int max_size, assay_detection *out, int capacity) {
    return guarded(-1, [&] {
        cv::Mat equalized;
        cv::equalizeHist(image->pixels, equalized);
        std::vector<cv::Rect> objects;
        std::vector<int> rejectLevels;
        std::vector<double> levelWeights;
        cascade->classifier.detectMultiScale(
            equalized, objects, rejectLevels, levelWeights, scale_factor, min_neighbors, 0,
            cv::Size(min_size, min_size), cv::Size(max_size, max_size), true);
        int count = static_cast<int>(objects.size());
        for (int i = 0; i < count && i < capacity; i++) {
            const cv::Rect &box = objects[i];
            out[i].left = box.x;
            out[i].top = box.y;
            out[i].width = box.width;
            out[i].height = box.height;
            out[i].reject_level = i < static_cast<int>(rejectLevels.size()) ? rejectLevels[i] : 0;
            out[i].level_weight = i < static_cast<int>(levelWeights.size()) ? levelWeights[i] : 0;
        }
        return count;
    });
}

int assay_render_text_png(const char *text, double font_scale, int thickness, uint8_t **png, size_t *count) {
    return guarded(-1, [&] {
        std::vector<std::string> lines;
        std::stringstream stream(text);
        for (std::string line; std::getline(stream, line, '\n');) lines.push_back(line);
        if (lines.empty()) lines.push_back("");
        const int font = cv::FONT_HERSHEY_DUPLEX;
        int width = 1, lineHeight = 1, baseline = 0;
        for (const auto &line : lines) {
            cv::Size size = cv::getTextSize(line, font, font_scale, thickness, &baseline);
            width = std::max(width, size.width);
            lineHeight = std::max(lineHeight, size.height + baseline);
        }
        const int margin = lineHeight;
        const int spacing = lineHeight / 2;
        const int height = 2 * margin + static_cast<int>(lines.size()) * lineHeight
            + static_cast<int>(lines.size() - 1) * spacing;
        cv::Mat canvas(height, width + 2 * margin, CV_8UC1, cv::Scalar(255));
        for (size_t i = 0; i < lines.size(); i++) {
            int y = margin + static_cast<int>(i) * (lineHeight + spacing) + lineHeight - baseline;
            cv::putText(canvas, lines[i], cv::Point(margin, y), font, font_scale, cv::Scalar(0), thickness, cv::LINE_AA);
        }
        std::vector<uint8_t> encoded;
        if (!cv::imencode(".png", canvas, encoded)) {
            lastError = "PNG encoding failed";
            return -1;
        }
        *png = static_cast<uint8_t *>(std::malloc(encoded.size()));
        if (*png == nullptr) {
            lastError = "out of memory";
            return -1;
        }
        std::memcpy(*png, encoded.data(), encoded.size());
        *count = encoded.size();
        return 0;
    });
}

void assay_vision_free_buffer(uint8_t *buffer) { std::free(buffer); }

}  // extern "C"
