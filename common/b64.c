/* common/b64.c: base64url (JWS), standard base64 and hex codecs. */
#include "common/b64.h"

#include <stdint.h>
#include <stdlib.h>

static const char url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int
url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '-') {
        return 62;
    }
    if (c == '_') {
        return 63;
    }
    return -1;
}

static int
std_value(unsigned char c)
{
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    if (c == '-' || c == '_') {
        return -1;
    }
    return url_value(c);
}

static bool
decode(const char *in, size_t in_len, int (*value)(unsigned char),
       unsigned char **out, size_t *out_len)
{
    unsigned char *buf;
    uint32_t acc = 0;
    size_t bits = 0, n = 0;

    if (in_len % 4 == 1) {
        return false;
    }
    buf = malloc(in_len / 4 * 3 + 3);
    if (buf == NULL) {
        return false;
    }
    for (size_t i = 0; i < in_len; i++) {
        int v = value((unsigned char)in[i]);

        if (v < 0) {
            free(buf);
            return false;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[n++] = (unsigned char)(acc >> bits);
        }
    }
    /* Leftover bits must be zero, or two encodings would decode alike. */
    if ((acc & ((1u << bits) - 1)) != 0) {
        free(buf);
        return false;
    }
    buf[n] = '\0';
    *out = buf;
    *out_len = n;
    return true;
}

bool
gw_b64url_decode(const char *in, size_t in_len, unsigned char **out,
                 size_t *out_len)
{
    return decode(in, in_len, url_value, out, out_len);
}

bool
gw_b64_decode(const char *in, size_t in_len, unsigned char **out,
              size_t *out_len)
{
    size_t pad = 0;

    while (in_len > 0 && in[in_len - 1] == '=' && pad < 2) {
        in_len--;
        pad++;
    }
    if (pad > 0 && (in_len + pad) % 4 != 0) {
        return false;
    }
    return decode(in, in_len, std_value, out, out_len);
}

size_t
gw_b64url_encode(const unsigned char *in, size_t len, char *out)
{
    size_t n = 0, i = 0;

    for (; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
                     in[i + 2];

        out[n++] = url_alphabet[v >> 18];
        out[n++] = url_alphabet[(v >> 12) & 63];
        out[n++] = url_alphabet[(v >> 6) & 63];
        out[n++] = url_alphabet[v & 63];
    }
    if (len - i == 1) {
        out[n++] = url_alphabet[in[i] >> 2];
        out[n++] = url_alphabet[(in[i] & 3) << 4];
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)in[i] << 8 | in[i + 1];

        out[n++] = url_alphabet[v >> 10];
        out[n++] = url_alphabet[(v >> 4) & 63];
        out[n++] = url_alphabet[(v & 15) << 2];
    }
    out[n] = '\0';
    return n;
}

void
gw_hex_encode(const unsigned char *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}
