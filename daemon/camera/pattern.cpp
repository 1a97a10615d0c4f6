#include "pattern.h"

#include <cstdio>
#include <ctime>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

extern "C" void pixd_pattern_draw(uint8_t *bgr, unsigned width, unsigned height, uint64_t seq,
                                  uint64_t ts_us, const char *label) {
    try {
        cv::Mat img((int)height, (int)width, CV_8UC3, bgr);
        const int w = (int)width, h = (int)height;
        // Colour bars that scroll one step per frame, so motion is visible.
        static const cv::Scalar bars[] = {{255, 255, 255}, {0, 255, 255}, {255, 255, 0},
                                          {0, 255, 0},     {255, 0, 255}, {0, 0, 255},
                                          {255, 0, 0},     {16, 16, 16}};
        const int nbars = 8, shift = (int)(seq * 4 % (unsigned)w);
        for (int i = 0; i < nbars; i++) {
            int x0 = (i * w / nbars + shift) % w, x1 = x0 + w / nbars;
            cv::rectangle(img, cv::Point(x0, 0), cv::Point(std::min(x1, w) - 1, h - 1),
                          bars[i], cv::FILLED);
            if (x1 > w)
                cv::rectangle(img, cv::Point(0, 0), cv::Point(x1 - w - 1, h - 1), bars[i],
                              cv::FILLED);
        }
        // A square bouncing along a diagonal.
        const int side = std::max(8, std::min(w, h) / 6);
        const int span = std::max(1, w - side), vspan = std::max(1, h - side);
        int px = (int)(seq * 7 % (unsigned)(2 * span)), py = (int)(seq * 5 % (unsigned)(2 * vspan));
        if (px > span) px = 2 * span - px;
        if (py > vspan) py = 2 * vspan - py;
        cv::rectangle(img, cv::Rect(px, py, side, side), cv::Scalar(0, 0, 0), cv::FILLED);
        // Frame number and capture time, readable by a person.
        char text[160];
        time_t secs = (time_t)(ts_us / 1000000u);
        struct tm tm;
        gmtime_r(&secs, &tm);
        std::snprintf(text, sizeof text, "%s #%llu %02d:%02d:%02d.%03u", label ? label : "",
                      (unsigned long long)seq, tm.tm_hour, tm.tm_min, tm.tm_sec,
                      (unsigned)(ts_us / 1000 % 1000));
        const double scale = std::max(0.4, h / 480.0);
        const int thick = std::max(1, (int)scale * 2);
        cv::putText(img, text, cv::Point(10, h - 12), cv::FONT_HERSHEY_SIMPLEX, scale,
                    cv::Scalar(0, 0, 0), thick + 2, cv::LINE_AA);
        cv::putText(img, text, cv::Point(10, h - 12), cv::FONT_HERSHEY_SIMPLEX, scale,
                    cv::Scalar(255, 255, 255), thick, cv::LINE_AA);
    } catch (...) {
        // Drawing on a buffer we sized cannot fail; never let C++ unwind into C.
    }
}
