/* common/b64.h: base64url (JWS), standard base64 and hex codecs. */
#ifndef GW_COMMON_B64_H
#define GW_COMMON_B64_H

#include <stdbool.h>
#include <stddef.h>

/* Decodes unpadded base64url (RFC 7515 section 2) into a new buffer with a
 * NUL after the data (not counted in *out_len). Refuses padding, other
 * characters and non-zero trailing bits. Caller frees *out. */
bool gw_b64url_decode(const char *in, size_t in_len, unsigned char **out,
                      size_t *out_len) __attribute__((warn_unused_result));

/* Decodes standard base64 (with or without padding) into a new buffer.
 * Caller frees *out. */
bool gw_b64_decode(const char *in, size_t in_len, unsigned char **out,
                   size_t *out_len) __attribute__((warn_unused_result));

/* Encodes into base64url without padding. out holds 4*ceil(len/3)+1 bytes;
 * returns the length written (a NUL follows). */
size_t gw_b64url_encode(const unsigned char *in, size_t len, char *out);

/* Writes 2*len lowercase hex digits and a NUL into out. */
void gw_hex_encode(const unsigned char *in, size_t len, char *out);

#endif
