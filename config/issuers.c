/* config/issuers.c: the named entries issuers.<name>.<field> of the
 * settings. A name is 1 to GW_ISSUER_NAME_MAX lower-case letters and
 * digits, with no underscore, so that GW_ISSUERS_<NAME>_<FIELD> splits one
 * way only (GW_ISSUERS_ACME_JWKS_URL: issuer "acme", field jwks_url). */
#include "config/issuers.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

#define OFF(f) offsetof(struct gw_issuer_config, f)
#define ENV_PREFIX "GW_ISSUERS_"
#define DEFAULT_ALGS "RS256,RS384,RS512,PS256,PS384,PS512,ES256"

extern char **environ;

static const struct {
    const char *field;
    size_t offset;
    const char *help;
} fields[] = {
    {"url", OFF(url), "issuer URL (https): the iss claim; discovery below"},
    {"jwks_url", OFF(jwks_url), "JWKS URL (https); unset: OIDC discovery"},
    {"aud", OFF(aud), "required audience: the app's client id (required)"},
    {"algs", OFF(algs), "allowed algorithms [" DEFAULT_ALGS "]"},
    {"group_claim", OFF(group_claim),
     "claim (name, namespaced URL or dotted path) for context.group_id "
     "[auth.group_claim]"},
    {"name_claims", OFF(name_claims),
     "claims tried in order for properties.user_name [auth.name_claims]"},
    {"extra_claims", OFF(extra_claims),
     "claims copied into properties, comma list; claim=name renames"},
};

#define FIELD_COUNT (sizeof(fields) / sizeof(fields[0]))

static char **
slot(struct gw_issuer_config *ic, size_t f)
{
    return (char **)((char *)ic + fields[f].offset);
}

static long
find_field(const char *name, size_t len, bool dashed)
{
    for (size_t f = 0; f < FIELD_COUNT; f++) {
        const char *want = fields[f].field;
        size_t i = 0;

        if (strlen(want) != len) {
            continue;
        }
        while (i < len &&
               (name[i] == want[i] ||
                (dashed && name[i] == '-' && want[i] == '_'))) {
            i++;
        }
        if (i == len) {
            return (long)f;
        }
    }
    return -1;
}

static bool
valid_name(const char *name, size_t len)
{
    if (len == 0 || len > GW_ISSUER_NAME_MAX) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (!islower((unsigned char)name[i]) &&
            !isdigit((unsigned char)name[i])) {
            return false;
        }
    }
    return true;
}

/* The entry named name (created when new), or NULL when the list is full
 * or out of memory. */
static struct gw_issuer_config *
entry(struct gw_config *cfg, const char *name, size_t len)
{
    struct gw_issuer_config *grown, *ic;

    for (size_t i = 0; i < cfg->issuer_count; i++) {
        if (strlen(cfg->issuers[i].name) == len &&
            strncmp(cfg->issuers[i].name, name, len) == 0) {
            return &cfg->issuers[i];
        }
    }
    if (cfg->issuer_count == GW_ISSUERS_MAX) {
        return NULL;
    }
    grown = realloc(cfg->issuers, (cfg->issuer_count + 1) * sizeof(*grown));
    if (grown == NULL) {
        return NULL;
    }
    cfg->issuers = grown;
    ic = &cfg->issuers[cfg->issuer_count];
    memset(ic, 0, sizeof(*ic));
    ic->name = strndup(name, len);
    if (ic->name == NULL) {
        return NULL;
    }
    cfg->issuer_count++;
    return ic;
}

static enum gw_config_result
set_field(struct gw_config *cfg, const char *name, size_t name_len, long f,
          const char *value, char *err, size_t err_len)
{
    struct gw_issuer_config *ic;
    char *copy;

    if (!valid_name(name, name_len)) {
        snprintf(err, err_len, "issuers.%.*s: an issuer name is 1 to %d "
                 "lower-case letters and digits", (int)(name_len % 64), name,
                 GW_ISSUER_NAME_MAX);
        return GW_CONFIG_BAD_VALUE;
    }
    if (f < 0) {
        snprintf(err, err_len, "issuers.%.*s: unknown issuer setting "
                 "(url, jwks_url, aud, algs, group_claim, name_claims, "
                 "extra_claims)", (int)name_len, name);
        return GW_CONFIG_UNKNOWN_KEY;
    }
    ic = entry(cfg, name, name_len);
    if (ic == NULL) {
        snprintf(err, err_len, "issuers: at most %d issuers (or out of "
                 "memory)", GW_ISSUERS_MAX);
        return GW_CONFIG_BAD_VALUE;
    }
    copy = strdup(value);
    if (copy == NULL) {
        return GW_CONFIG_NO_MEMORY;
    }
    free(*slot(ic, (size_t)f));
    *slot(ic, (size_t)f) = copy;
    return GW_CONFIG_OK;
}

enum gw_config_result
gw_config_issuer_set(struct gw_config *cfg, const char *key,
                     const char *value, char *err, size_t err_len)
{
    const char *dot = strchr(key, '.');

    if (dot == NULL) {
        snprintf(err, err_len, "issuers.%.40s: use issuers.<name>.<field>",
                 key);
        return GW_CONFIG_UNKNOWN_KEY;
    }
    return set_field(cfg, key, (size_t)(dot - key),
                     find_field(dot + 1, strlen(dot + 1), false), value, err,
                     err_len);
}

enum gw_config_result
gw_config_issuer_flag(struct gw_config *cfg, const char *arg, size_t arg_len,
                      const char *value, char *err, size_t err_len)
{
    const char *dash = memchr(arg, '-', arg_len);
    size_t name_len;

    if (dash == NULL) {
        snprintf(err, err_len, "--issuers-%.*s: use --issuers-<name>-<field>",
                 (int)(arg_len % 64), arg);
        return GW_CONFIG_UNKNOWN_KEY;
    }
    name_len = (size_t)(dash - arg);
    return set_field(cfg, arg, name_len,
                     find_field(dash + 1, arg_len - name_len - 1, true),
                     value, err, err_len);
}

enum gw_config_result
gw_config_issuers_env(struct gw_config *cfg, char *err, size_t err_len)
{
    size_t plen = strlen(ENV_PREFIX);

    for (char **e = environ; e != NULL && *e != NULL; e++) {
        const char *var = *e, *eq = strchr(var, '='), *sep;
        char name[GW_ISSUER_NAME_MAX + 1], field[32];
        size_t name_len, field_len;
        enum gw_config_result rc;

        if (eq == NULL || strncmp(var, ENV_PREFIX, plen) != 0) {
            continue;
        }
        var += plen;
        sep = memchr(var, '_', (size_t)(eq - var));
        name_len = sep != NULL ? (size_t)(sep - var) : 0;
        field_len = sep != NULL ? (size_t)(eq - sep - 1) : 0;
        if (sep == NULL || name_len == 0 || name_len > GW_ISSUER_NAME_MAX ||
            field_len == 0 || field_len >= sizeof(field)) {
            snprintf(err, err_len, "%.60s: use GW_ISSUERS_<NAME>_<FIELD>",
                     *e);
            return GW_CONFIG_UNKNOWN_KEY;
        }
        for (size_t i = 0; i < name_len; i++) {
            name[i] = (char)tolower((unsigned char)var[i]);
        }
        for (size_t i = 0; i < field_len; i++) {
            field[i] = (char)tolower((unsigned char)sep[1 + i]);
        }
        rc = set_field(cfg, name, name_len, find_field(field, field_len,
                                                       false),
                       eq + 1, err, err_len);
        if (rc != GW_CONFIG_OK) {
            return rc;
        }
    }
    return GW_CONFIG_OK;
}

static enum gw_config_result
fill_default(struct gw_issuer_config *ic, size_t f, const char *def)
{
    if (*slot(ic, f) != NULL) {
        return GW_CONFIG_OK;
    }
    *slot(ic, f) = strdup(def);
    return *slot(ic, f) != NULL ? GW_CONFIG_OK : GW_CONFIG_NO_MEMORY;
}

static int
by_name(const void *a, const void *b)
{
    return strcmp(((const struct gw_issuer_config *)a)->name,
                  ((const struct gw_issuer_config *)b)->name);
}

static enum gw_config_result
check_one(const struct gw_config *cfg, struct gw_issuer_config *ic,
          char *err, size_t err_len)
{
    const char *defs[FIELD_COUNT] = {"", "", "", DEFAULT_ALGS,
                                     cfg->auth_group_claim,
                                     cfg->auth_name_claims, ""};

    for (size_t f = 0; f < FIELD_COUNT; f++) {
        if (fill_default(ic, f, defs[f]) != GW_CONFIG_OK) {
            return GW_CONFIG_NO_MEMORY;
        }
    }
    /* Keys travel only over verified TLS: a plain-HTTP JWKS would let
     * anyone on the path sign tokens. */
    if (strncmp(ic->url, "https://", 8) != 0 ||
        (ic->jwks_url[0] != '\0' &&
         strncmp(ic->jwks_url, "https://", 8) != 0)) {
        snprintf(err, err_len, "issuers.%s: url and jwks_url must be "
                 "https:// URLs", ic->name);
        return GW_CONFIG_BAD_VALUE;
    }
    /* An ID token names its app in aud; without the check, a token the
     * same provider issued to any other app would pass. */
    if (ic->aud[0] == '\0') {
        snprintf(err, err_len, "issuers.%s.aud: required (the app's "
                 "client id)", ic->name);
        return GW_CONFIG_BAD_VALUE;
    }
    return GW_CONFIG_OK;
}

enum gw_config_result
gw_config_issuers_check(struct gw_config *cfg, char *err, size_t err_len)
{
    for (size_t i = 0; i < cfg->issuer_count; i++) {
        enum gw_config_result rc = check_one(cfg, &cfg->issuers[i], err,
                                             err_len);

        if (rc != GW_CONFIG_OK) {
            return rc;
        }
        for (size_t k = 0; k < i; k++) {
            if (strcmp(cfg->issuers[k].url, cfg->issuers[i].url) == 0) {
                snprintf(err, err_len, "issuers.%s and issuers.%s: the same "
                         "url", cfg->issuers[k].name, cfg->issuers[i].name);
                return GW_CONFIG_BAD_VALUE;
            }
        }
    }
    if (cfg->issuer_count > 1) {
        qsort(cfg->issuers, cfg->issuer_count, sizeof(*cfg->issuers),
              by_name);
    }
    if (cfg->oidc_cache_min_s > cfg->oidc_cache_max_s) {
        snprintf(err, err_len, "oidc.cache_min_s is above oidc.cache_max_s");
        return GW_CONFIG_BAD_VALUE;
    }
    return GW_CONFIG_OK;
}

void
gw_config_issuers_free(struct gw_config *cfg)
{
    for (size_t i = 0; i < cfg->issuer_count; i++) {
        free(cfg->issuers[i].name);
        for (size_t f = 0; f < FIELD_COUNT; f++) {
            free(*slot(&cfg->issuers[i], f));
        }
    }
    free(cfg->issuers);
    cfg->issuers = NULL;
    cfg->issuer_count = 0;
}

void
gw_config_issuers_help(FILE *out)
{
    fprintf(out, "\nIssuers of browsers' ID tokens, one set per <name> "
            "(a-z, 0-9; at most %d):\n", GW_ISSUERS_MAX);
    for (size_t f = 0; f < FIELD_COUNT; f++) {
        char upper[32];
        size_t n = 0;

        for (const char *p = fields[f].field; *p != '\0' && n + 1 < 32;
             p++) {
            upper[n++] = (char)toupper((unsigned char)*p);
        }
        upper[n] = '\0';
        fprintf(out, "  issuers.<name>.%-14s GW_ISSUERS_<NAME>_%s\n      %s\n",
                fields[f].field, upper, fields[f].help);
    }
}

void
gw_config_issuers_log(const struct gw_config *cfg)
{
    for (size_t i = 0; i < cfg->issuer_count; i++) {
        const struct gw_issuer_config *ic = &cfg->issuers[i];

        gw_log(GW_LOG_DEBUG, "config", "issuer", GW_F_STR("name", ic->name),
               GW_F_STR("url", ic->url), GW_F_STR("jwks_url", ic->jwks_url),
               GW_F_STR("aud", ic->aud), GW_F_STR("algs", ic->algs),
               GW_F_STR("group_claim", ic->group_claim),
               GW_F_STR("name_claims", ic->name_claims),
               GW_F_STR("extra_claims", ic->extra_claims), GW_F_END);
    }
}
