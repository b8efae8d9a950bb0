/* cli/verify.c: the verify subcommand, for the person debugging an
 * integration: which key the token picks, whether its signature holds,
 * and each claim against the policy, then the gateway's own verdict. The
 * token itself is never printed, only its fingerprint. */
#include "cli/verify.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "auth/jwt.h"
#include "cli/verify_webhook.h"
#include "common/b64.h"
#include "common/clock.h"
#include "common/fileutil.h"

#define SHOWN_MAX 64
/* A relaxed policy checks header, key and signature alone. */
#define FAR_LEEWAY_S ((int64_t)1 << 40)

/* What the checks read, gathered once. */
struct subject {
    const struct gw_keyset *keys;
    const struct gw_jwt_policy *policy;
    const char *who;   /* "users' keys (auth.*)" */
    const char *label; /* "auth" or "backend" */
    int64_t now_ms;
};

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: signin-gateway verify (--token TOKEN | --token-file "
            "FILE|-) [--backend]\n"
            "                             [--config FILE] [settings]\n"
            "       signin-gateway verify --webhook PROVIDER --body FILE "
            "--headers FILE\n"
            "                             [--config FILE] [settings]\n"
            "Explains step by step whether the gateway, with this "
            "configuration, would\naccept the token: header, key chosen, "
            "signature, each claim. --backend checks\nit as a /v1/track "
            "service token. --webhook explains a captured delivery\nto "
            "/v1/webhooks/PROVIDER: its raw body, and its headers as "
            "\"Name: value\" lines.\nExit 0: accepted; 1: refused; 2: "
            "unusable.\n");
}

static bool
webhook_opts_ok(const struct gw_verify_opts *opts)
{
    const char *problem = NULL;

    if (opts->token != NULL || opts->token_file != NULL || opts->backend) {
        problem = "--webhook takes no token options";
    } else if (opts->body_file == NULL || opts->headers_file == NULL) {
        problem = "--webhook needs --body FILE and --headers FILE";
    }
    if (problem != NULL) {
        fprintf(stderr, "verify: %s\n", problem);
        usage(stderr);
        return false;
    }
    return true;
}

int
gw_verify_parse(int argc, char **argv, struct gw_verify_opts *opts)
{
    int i = 1;

    memset(opts, 0, sizeof(*opts));
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--backend") == 0) {
            opts->backend = true;
        } else if (strcmp(argv[i], "--token") == 0 && i + 1 < argc) {
            opts->token = argv[++i];
        } else if (strcmp(argv[i], "--token-file") == 0 && i + 1 < argc) {
            opts->token_file = argv[++i];
        } else if (strcmp(argv[i], "--webhook") == 0 && i + 1 < argc) {
            opts->webhook = argv[++i];
        } else if (strcmp(argv[i], "--body") == 0 && i + 1 < argc) {
            opts->body_file = argv[++i];
        } else if (strcmp(argv[i], "--headers") == 0 && i + 1 < argc) {
            opts->headers_file = argv[++i];
        } else {
            break;
        }
    }
    if (opts->webhook != NULL) {
        return webhook_opts_ok(opts) ? i : -1;
    }
    if ((opts->token == NULL) == (opts->token_file == NULL) ||
        opts->body_file != NULL || opts->headers_file != NULL) {
        fprintf(stderr, "verify: give exactly one of --token and "
                        "--token-file\n");
        usage(stderr);
        return -1;
    }
    return i;
}

/* Untrusted text for a terminal: cut, control bytes shown as '?'. */
static void
put_safe(FILE *out, const char *s)
{
    size_t n = strlen(s);

    fputc('"', out);
    for (size_t i = 0; i < n && i < SHOWN_MAX; i++) {
        unsigned char c = (unsigned char)s[i];

        fputc(c < 0x20 || c == 0x7f || c == '"' ? '?' : c, out);
    }
    fputs(n > SHOWN_MAX ? "...\"" : "\"", out);
}

static void
put_algs(FILE *out, unsigned algs)
{
    bool first = true;

    for (unsigned bit = 1; bit != 0 && bit <= GW_ALG_ES256; bit <<= 1) {
        if (algs & bit) {
            fprintf(out, "%s%s", first ? "" : ",", gw_jwt_alg_name(bit));
            first = false;
        }
    }
    if (first) {
        fputs("nothing", out);
    }
}

static void
put_time(FILE *out, double t)
{
    time_t secs = (time_t)t;
    struct tm tm;
    char text[32];

    if (gmtime_r(&secs, &tm) != NULL &&
        strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm) > 0) {
        fputs(text, out);
    } else {
        fprintf(out, "%.0f", t);
    }
}

/* The token as given: a file's final newline and a pasted "Bearer "
 * prefix are dropped. Returns an owned copy or NULL. */
static char *
read_token(const struct gw_verify_opts *opts, FILE *err)
{
    char *text = NULL, *start;
    size_t len;
    int e;

    if (opts->token != NULL) {
        text = strdup(opts->token);
    } else {
        e = gw_file_read(strcmp(opts->token_file, "-") == 0
                             ? "/dev/stdin"
                             : opts->token_file,
                         (size_t)GW_JWT_MAX_LEN * 2, &text, &len);
        if (e != 0) {
            fprintf(err, "verify: %s: %s\n", opts->token_file, strerror(e));
            return NULL;
        }
    }
    if (text == NULL) {
        fprintf(err, "verify: out of memory\n");
        return NULL;
    }
    start = text;
    while (isspace((unsigned char)*start)) {
        start++;
    }
    if (strncasecmp(start, "Bearer ", 7) == 0) {
        start += 7;
    }
    len = strlen(start);
    while (len > 0 && isspace((unsigned char)start[len - 1])) {
        len--;
    }
    memmove(text, start, len);
    text[len] = '\0';
    if (len == 0) {
        fprintf(err, "verify: the token is empty\n");
        free(text);
        return NULL;
    }
    return text;
}

static void
put_fingerprint(FILE *out, const char *token)
{
    unsigned char md[SHA256_DIGEST_LENGTH];

    SHA256((const unsigned char *)token, strlen(token), md);
    fprintf(out, "token: %zu bytes, fingerprint %02x%02x%02x%02x\n",
            strlen(token), md[0], md[1], md[2], md[3]);
}

/* Decodes the first part; NULL when it is not base64url JSON. */
static struct json_object *
decode_header(const char *token)
{
    const char *dot = strchr(token, '.');
    unsigned char *raw = NULL;
    struct json_object *obj;
    size_t len;

    if (dot == NULL ||
        !gw_b64url_decode(token, (size_t)(dot - token), &raw, &len)) {
        return NULL;
    }
    obj = json_tokener_parse((const char *)raw);
    free(raw);
    if (obj != NULL && !json_object_is_type(obj, json_type_object)) {
        json_object_put(obj);
        return NULL;
    }
    return obj;
}

static const char *
member(struct json_object *obj, const char *name)
{
    struct json_object *v;

    if (obj == NULL || !json_object_object_get_ex(obj, name, &v) ||
        !json_object_is_type(v, json_type_string)) {
        return NULL;
    }
    return json_object_get_string(v);
}

static void
explain_header(FILE *out, const struct subject *s, struct json_object *hdr,
               unsigned *alg)
{
    const char *name = member(hdr, "alg"), *kid = member(hdr, "kid");
    const char *typ = member(hdr, "typ");

    *alg = name != NULL ? gw_alg_parse(name, strlen(name)) : 0;
    if (hdr == NULL) {
        fprintf(out, "header: not a base64url JSON object\n");
        return;
    }
    fprintf(out, "header: alg ");
    put_safe(out, name != NULL ? name : "(none)");
    fprintf(out, ", kid ");
    put_safe(out, kid != NULL ? kid : "(none)");
    fprintf(out, ", typ ");
    put_safe(out, typ != NULL ? typ : "(none)");
    fputc('\n', out);
    if (*alg == 0) {
        fprintf(out, "  alg: not one the gateway supports (none is never "
                     "accepted)\n");
    } else if (!(s->policy->algs & *alg)) {
        fprintf(out, "  alg: %s is not in %s.algs (", gw_jwt_alg_name(*alg),
                s->label);
        put_algs(out, s->policy->algs);
        fprintf(out, ")\n");
    }
}

static const char *
key_type(const struct gw_key *k)
{
    switch (k->type) {
    case GW_KEY_OCT:
        return "HMAC secret";
    case GW_KEY_RSA:
        return "RSA public key";
    default:
        return "EC P-256 public key";
    }
}

/* Mirrors auth/jwt.c's choice, to name the key or say why none fits. */
static void
explain_key(FILE *out, const struct subject *s, const char *kid,
            unsigned alg)
{
    const struct gw_key *found = NULL;
    size_t matches = 0;

    for (size_t i = 0; i < s->keys->count; i++) {
        const struct gw_key *k = &s->keys->keys[i];

        if (kid != NULL ? (k->kid != NULL && strcmp(k->kid, kid) == 0)
                        : (k->algs & alg) != 0) {
            found = found != NULL ? found : k;
            matches++;
        }
    }
    fprintf(out, "key: ");
    if (found == NULL) {
        fprintf(out, "%s %s\n",
                kid != NULL ? "no configured key has that kid; kids are"
                            : "no key may verify this alg; kids are",
                "listed below");
        for (size_t i = 0; i < s->keys->count; i++) {
            fprintf(out, "  - ");
            put_safe(out, s->keys->keys[i].kid != NULL
                              ? s->keys->keys[i].kid
                              : "(no kid)");
            fprintf(out, " %s, may verify ", key_type(&s->keys->keys[i]));
            put_algs(out, s->keys->keys[i].algs);
            fputc('\n', out);
        }
        return;
    }
    if (kid == NULL && matches > 1) {
        fprintf(out, "%zu keys may verify %s and the token has no kid\n",
                matches, gw_jwt_alg_name(alg));
        return;
    }
    put_safe(out, found->kid != NULL ? found->kid : "(no kid)");
    fprintf(out, ", %s from the %s, may verify ", key_type(found), s->who);
    put_algs(out, found->algs);
    fprintf(out, "%s\n", alg != 0 && !(found->algs & alg)
                             ? ": not the token's alg"
                             : "");
}

static void
explain_time(FILE *out, const struct subject *s, struct json_object *claims,
             const char *name)
{
    struct json_object *v;
    double t, now = (double)s->now_ms / 1000.0;
    double leeway = (double)s->policy->leeway_s;
    const char *verdict = "ok";

    if (!json_object_object_get_ex(claims, name, &v)) {
        fprintf(out, "claim %s: absent%s\n", name,
                strcmp(name, "exp") == 0 ? ": required, refused" : "");
        return;
    }
    if (!json_object_is_type(v, json_type_int) &&
        !json_object_is_type(v, json_type_double)) {
        fprintf(out, "claim %s: not a number: refused\n", name);
        return;
    }
    t = json_object_get_double(v);
    if (strcmp(name, "exp") == 0 && now >= t + leeway) {
        verdict = "expired, refused";
    } else if (strcmp(name, "exp") != 0 && t > now + leeway) {
        verdict = "in the future, refused";
    }
    fprintf(out, "claim %s: ", name);
    put_time(out, t);
    fprintf(out, " (%+lld s from now, leeway %lld s): %s\n",
            (long long)llround(t - now), (long long)s->policy->leeway_s,
            verdict);
}

static bool
audience_has(struct json_object *v, const char *aud)
{
    if (json_object_is_type(v, json_type_string)) {
        return strcmp(json_object_get_string(v), aud) == 0;
    }
    for (size_t i = 0; json_object_is_type(v, json_type_array) &&
                       i < json_object_array_length(v);
         i++) {
        struct json_object *e = json_object_array_get_idx(v, i);

        if (json_object_is_type(e, json_type_string) &&
            strcmp(json_object_get_string(e), aud) == 0) {
            return true;
        }
    }
    return false;
}

static void
put_audience(FILE *out, struct json_object *aud)
{
    size_t n;

    if (aud == NULL) {
        fputs("(absent)", out);
        return;
    }
    if (!json_object_is_type(aud, json_type_array)) {
        put_safe(out, json_object_get_string(aud));
        return;
    }
    n = json_object_array_length(aud);
    fputc('[', out);
    for (size_t i = 0; i < n && i < 8; i++) {
        fputs(i > 0 ? ", " : "", out);
        put_safe(out, json_object_get_string(json_object_array_get_idx(aud,
                                                                       i)));
    }
    fputs(n > 8 ? ", ...]" : "]", out);
}

static void
explain_text_claims(FILE *out, const struct subject *s,
                    struct json_object *claims)
{
    const char *iss = member(claims, "iss"), *sub = member(claims, "sub");
    struct json_object *aud = NULL;

    fprintf(out, "claim iss: ");
    put_safe(out, iss != NULL ? iss : "(absent)");
    if (s->policy->iss == NULL) {
        fprintf(out, ": not checked (%s.iss unset)\n", s->label);
    } else {
        fprintf(out, ": %s %s.iss\n",
                iss != NULL && strcmp(iss, s->policy->iss) == 0
                    ? "ok, equals"
                    : "refused, differs from",
                s->label);
    }
    (void)json_object_object_get_ex(claims, "aud", &aud);
    fprintf(out, "claim aud: ");
    put_audience(out, aud);
    if (s->policy->aud == NULL) {
        fprintf(out, ": not checked (%s.aud unset)\n", s->label);
    } else {
        fprintf(out, ": %s %s.aud\n",
                aud != NULL && audience_has(aud, s->policy->aud)
                    ? "ok, names"
                    : "refused, does not name",
                s->label);
    }
    fprintf(out, "claim sub: ");
    put_safe(out, sub != NULL ? sub : "(absent)");
    fprintf(out, ": %s\n", sub != NULL && sub[0] != '\0'
                               ? "ok"
                               : "refused, a non-empty sub is required");
}

static bool
subject_allowed(const struct gw_handler_env *env, struct json_object *claims)
{
    const char *sub = member(claims, "sub");

    if (env->backend_subjects == NULL) {
        return true;
    }
    for (size_t i = 0; sub != NULL && i < env->backend_subject_count; i++) {
        if (strcmp(env->backend_subjects[i], sub) == 0) {
            return true;
        }
    }
    return false;
}

/* Header, key and signature alone: a policy that asks nothing else. */
static void
explain_signature(FILE *out, const struct subject *s, const char *token,
                  struct json_object **claims)
{
    struct gw_jwt_policy relaxed = *s->policy;
    struct gw_jwt_verified v;
    enum gw_jwt_result rc;

    relaxed.iss = NULL;
    relaxed.aud = NULL;
    relaxed.leeway_s = FAR_LEEWAY_S;
    relaxed.flags = GW_JWT_F_EXP_OPTIONAL | GW_JWT_F_SUB_OPTIONAL;
    rc = gw_jwt_verify(&relaxed, s->keys, token, strlen(token), s->now_ms,
                       &v);
    if (rc == GW_JWT_OK) {
        fprintf(out, "signature: valid\n");
        *claims = json_object_get(v.claims);
    } else if (rc == GW_JWT_BAD_SIGNATURE) {
        fprintf(out, "signature: does not verify with that key\n");
    } else {
        fprintf(out, "signature: not checked (%s)\n", gw_jwt_result_code(rc));
    }
    gw_jwt_verified_clear(&v);
}

int
gw_verify_run(const struct gw_verify_opts *opts,
              const struct gw_handler_env *env, FILE *out, FILE *err)
{
    struct subject s = {
        .keys = opts->backend ? &env->backend_keys : &env->user_keys,
        .policy = opts->backend ? &env->backend_policy : &env->user_policy,
        .who = opts->backend ? "backend keys (backend.*)"
                             : "users' keys (auth.*)",
        .label = opts->backend ? "backend" : "auth",
        .now_ms = gw_clock_now_ms(),
    };
    struct json_object *hdr = NULL, *claims = NULL;
    struct gw_jwt_verified v;
    enum gw_jwt_result rc;
    char *token = NULL;
    unsigned alg = 0;
    int exit_code;

    if (opts->webhook != NULL) {
        return gw_verify_webhook_run(opts, env, out, err);
    }
    token = read_token(opts, err);
    if (token == NULL) {
        return 2;
    }
    put_fingerprint(out, token);
    fprintf(out, "checked with: the %s, %zu key(s)\n", s.who, s.keys->count);
    if (s.keys->count == 0) {
        fprintf(out, "result: refused: not_configured (404)\n");
        OPENSSL_cleanse(token, strlen(token));
        free(token);
        return 1;
    }
    hdr = decode_header(token);
    explain_header(out, &s, hdr, &alg);
    if (hdr != NULL && alg != 0) {
        explain_key(out, &s, member(hdr, "kid"), alg);
    }
    explain_signature(out, &s, token, &claims);
    if (claims != NULL) {
        explain_time(out, &s, claims, "exp");
        explain_time(out, &s, claims, "nbf");
        explain_time(out, &s, claims, "iat");
        explain_text_claims(out, &s, claims);
    }
    rc = gw_jwt_verify(s.policy, s.keys, token, strlen(token), s.now_ms, &v);
    if (rc == GW_JWT_OK && opts->backend &&
        !subject_allowed(env, v.claims)) {
        fprintf(out, "claim sub: not in backend.subjects\n"
                     "result: refused: subject_not_allowed (401)\n");
        exit_code = 1;
    } else if (rc == GW_JWT_OK) {
        fprintf(out, "result: accepted\n");
        exit_code = 0;
    } else {
        fprintf(out, "result: refused: %s (401)\n", gw_jwt_result_code(rc));
        exit_code = 1;
    }
    gw_jwt_verified_clear(&v);
    json_object_put(claims);
    json_object_put(hdr);
    OPENSSL_cleanse(token, strlen(token));
    free(token);
    return exit_code;
}
