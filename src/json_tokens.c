/*
 * json_tokens.c - helpers on the jsmn tokens of one record (json_tokens.h).
 */
#include "json_tokens.h"

#include <stdio.h>
#include <string.h>

#include "text.h"

const char *json_token_text(const char *json, const jsmntok_t *t, size_t *len)
{
    *len = (size_t)(t->end - t->start);
    return json + t->start;
}

int json_token_is(const char *json, const jsmntok_t *t, const char *literal)
{
    size_t len;
    const char *text = json_token_text(json, t, &len);
    return t->type == JSMN_PRIMITIVE && len == strlen(literal) && memcmp(text, literal, len) == 0;
}

int json_token_u64(const char *json, const jsmntok_t *t, uint64_t *value)
{
    size_t len;
    const char *text = json_token_text(json, t, &len);
    return t->type == JSMN_PRIMITIVE && text_parse_u64(text, len, value);
}

int json_token_i64(const char *json, const jsmntok_t *t, int64_t *value)
{
    size_t len;
    const char *text = json_token_text(json, t, &len);
    return t->type == JSMN_PRIMITIVE && text_parse_i64(text, len, value);
}

json_string_status json_token_string(const char *json, const jsmntok_t *t, char *out, size_t cap,
                                     unsigned long *replaced)
{
    size_t len;
    size_t out_len = 0;
    const char *text = json_token_text(json, t, &len);
    *replaced = 0;
    out[0] = '\0';
    if (t->type != JSMN_STRING)
        return JSON_STRING_ERR_ESCAPE;
    json_string_status st = json_string_decode(text, len, 0, out, cap, &out_len, replaced);
    if (st == JSON_STRING_OK && out_len >= cap)
        st = JSON_STRING_ERR_NO_ROOM;
    out[st == JSON_STRING_OK ? out_len : 0] = '\0';
    return st;
}

void json_token_show(const char *json, const jsmntok_t *t, size_t max, char *out, size_t cap)
{
    size_t len;
    const char *text = json_token_text(json, t, &len);
    const char *quote = t->type == JSMN_STRING ? "\"" : "";
    size_t show = len;
    const char *more = "";
    if (len > max) {
        show = max;
        while (show > 0 && ((unsigned char)text[show] & 0xC0u) == 0x80u)
            show--;
        more = "...";
    }
    (void)snprintf(out, cap, "%s%.*s%s%s", quote, (int)show, text, more, quote);
}

int json_token_find(const char *json, const jsmntok_t *tokens, int count, const char *key)
{
    size_t klen = strlen(key);
    int found = -1;
    if (count < 1 || tokens[0].type != JSMN_OBJECT)
        return -1;
    /* key by key: a value and everything inside it (the tokens that start
     * before it ends) are stepped over without looking at their text */
    int i = 1;
    while (i + 1 < count) {
        const jsmntok_t *k = &tokens[i];
        if (k->type == JSMN_STRING && (size_t)(k->end - k->start) == klen &&
            memcmp(json + k->start, key, klen) == 0)
            found = i + 1; /* last wins */
        int end = tokens[i + 1].end;
        for (i += 2; i < count && tokens[i].start < end; i++)
            ;
    }
    return found;
}
