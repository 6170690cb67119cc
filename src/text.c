/*
 * text.c - small character helpers (see text.h).
 */
#include "text.h"

#include <string.h>

int text_hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int text_is_object_id(const char *text, size_t len)
{
    if (len != 24)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (text_hex_value((unsigned char)text[i]) < 0)
            return 0;
    return 1;
}

const char *text_object_id_unwrap(const char *text, size_t *len)
{
    static const char prefix[] = "ObjectId(";
    size_t p = sizeof prefix - 1;
    if (*len < p + 2 || memcmp(text, prefix, p) != 0 || text[*len - 1] != ')')
        return text;
    for (size_t i = p; i < *len - 1; i++)
        if (text_hex_value((unsigned char)text[i]) < 0)
            return text;
    *len -= p + 1;
    return text + p;
}

size_t text_utf8_encode(uint32_t cp, uint8_t out[4])
{
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | (cp >> 18));
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

int text_parse_u64(const char *text, size_t len, uint64_t *value)
{
    uint64_t v = 0;
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return 0;
        uint64_t digit = (uint64_t)(text[i] - '0');
        if (v > (UINT64_MAX - digit) / 10u)
            return 0;
        v = v * 10u + digit;
    }
    *value = v;
    return 1;
}

int text_parse_i64(const char *text, size_t len, int64_t *value)
{
    int negative = len > 0 && text[0] == '-';
    uint64_t magnitude = 0;
    if (!text_parse_u64(text + negative, len - (size_t)negative, &magnitude) ||
        magnitude > (uint64_t)INT64_MAX + (negative ? 1u : 0u))
        return 0;
    *value = negative ? (int64_t)(0 - magnitude) : (int64_t)magnitude;
    return 1;
}

/* Digits [*i, ...) of s; returns how many. */
static size_t text_scan_digits(const char *s, size_t n, size_t *i)
{
    size_t start = *i;
    while (*i < n && s[*i] >= '0' && s[*i] <= '9')
        (*i)++;
    return *i - start;
}

/* Exponent digits at s[*i], saturated far beyond any meaningful value. */
static int64_t text_scan_exponent(const char *s, size_t n, size_t *i, int *ok)
{
    int negative = *i < n && s[*i] == '-';
    if (*i < n && (s[*i] == '-' || s[*i] == '+'))
        (*i)++;
    int64_t e = 0;
    size_t start = *i;
    for (; *i < n && s[*i] >= '0' && s[*i] <= '9'; (*i)++)
        if (e < 1000000000)
            e = e * 10 + (s[*i] - '0');
    *ok = *i > start;
    return negative ? -e : e;
}

/* The common case of text_json_integer: 1 to 19 digits and nothing else
 * (no sign, point or exponent). Returns 0, leaving *out alone, otherwise. */
static int text_plain_integer(const char *s, size_t n, text_integer *out)
{
    uint64_t magnitude = 0;
    int digits = 0;
    if (n == 0 || n > 19)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)(unsigned char)s[i] - '0';
        if (d > 9)
            return 0;
        magnitude = magnitude * 10 + d;
        digits += magnitude != 0; /* leading zeros are not significant */
    }
    out->negative = 0;
    out->digits = digits;
    out->magnitude = magnitude;
    out->fraction = 0;
    return 1;
}

int text_json_integer(const char *s, size_t n, text_integer *out)
{
    size_t i = 0;
    if (text_plain_integer(s, n, out))
        return 1;
    out->negative = n > 0 && s[0] == '-';
    i += (size_t)out->negative;
    const char *int_digits = s + i;
    size_t k = text_scan_digits(s, n, &i);
    const char *frac = s + i;
    size_t f = 0;
    if (i < n && s[i] == '.') {
        i++;
        frac = s + i;
        f = text_scan_digits(s, n, &i);
        if (f == 0)
            return 0;
    }
    int64_t exponent = 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        int ok = 0;
        i++;
        exponent = text_scan_exponent(s, n, &i, &ok);
        if (!ok)
            return 0;
    }
    if (k == 0 || i != n)
        return 0;
    /* The digits int_digits ++ frac with the point after k + exponent of them. */
    int64_t point = (int64_t)k + exponent;
    int64_t all = (int64_t)(k + f);
    out->digits = 0;
    out->magnitude = 0;
    out->fraction = 0;
    for (int64_t d = point < 0 ? 0 : point; d < all; d++) {
        char c = d < (int64_t)k ? int_digits[d] : frac[d - (int64_t)k];
        out->fraction |= c != '0';
    }
    for (int64_t d = 0; d < point; d++) {
        char c = d >= all ? '0' : d < (int64_t)k ? int_digits[d] : frac[d - (int64_t)k];
        if (out->digits == 0 && c == '0') {
            if (d >= all)
                break; /* only zeros are left: the value is 0 */
            continue;
        }
        if (++out->digits > 19) {
            out->digits = 20;
            break;
        }
        out->magnitude = out->magnitude * 10 + (uint64_t)(c - '0');
    }
    return 1;
}
