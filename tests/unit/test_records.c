/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Parameters, includes and DNS records (pinhole.rules(5) PARAMETERS, INCLUDE, RECORDS): what
 * the IR holds, where each CNAME alias is allowed, and what is reported. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "policy.h"

static const char vendor[] =
	"param tracking \"the tracking domain\" example trk.vendor.example.net\n"	/* 1 */
	"param account \"the account\" example acct0\n"
	"set web { *.web.vendor.example.net }\n"
	"set tracking { $tracking }\n"
	"record cname lp.customer.example.com to $account.web.vendor.example.net\n"	/* 5 */
	"record cname pages.customer.example.com to $tracking\n"
	"record cname go.customer.example.com to @web\n"
	"record spf customer.example.com include mail.vendor.example.net\n"
	"record dkim m1._domainkey.customer.example.com value \"v=DKIM1; p=AAAA\"\n"
	"record mx customer.example.com\n"						/* 10 */
	"allow out to @web tcp port 443\n"
	"allow out to @tracking tcp port 443\n";

static struct policy *compile_with(const char *text, struct diags *d, const struct define_override *defs, size_t n,
				   int (*reader)(const char *, char **, size_t *))
{
	struct compile_request req = { .file = "t.rules", .text = text, .len = strlen(text), .defines = defs,
				       .n_defines = n, .read_include = reader };
	return policy_compile(&req, d);
}

static bool has_diag(const struct diags *d, enum severity sev, unsigned line, const char *needle)
{
	for (size_t i = 0; i < diags_count(d); i++) {
		const struct diag *g = diags_get(d, i);
		if (g->severity == sev && g->loc.line == line && strstr(g->message, needle))
			return true;
	}
	return false;
}

static const struct ir_name *find_name(const struct ir_set *s, const char *name)
{
	for (size_t i = 0; i < s->n_names; i++)
		if (!strcmp(s->names[i].name, name))
			return &s->names[i];
	return NULL;
}

Test(records, resolved_with_parameters_set)
{
	static const struct define_override defs[] = { { "tracking", "trk1.vendor.example.net" }, { "account", "acct1" } };
	struct diags *d = diags_new();
	struct policy *p = compile_with(vendor, d, defs, 2, NULL);
	cr_assert_not_null(p);
	cr_assert_eq(diags_warnings(d), 0);
	cr_assert_eq(policy_unset_params(p), 0);
	cr_assert_eq(p->n_records, 6);
	cr_assert_eq(p->records[0].kind, RECORD_CNAME);
	cr_assert_str_eq(p->records[0].name, "lp.customer.example.com");
	cr_assert_str_eq(p->records[0].target, "acct1.web.vendor.example.net");
	cr_assert_eq(p->records[0].loc.line, 5);
	cr_assert_str_eq(p->records[1].target, "trk1.vendor.example.net");
	cr_assert_str_eq(p->records[2].target_set->name, "web");
	cr_assert_str_eq(p->records[3].target, "mail.vendor.example.net");
	cr_assert_str_eq(p->records[4].name, "m1._domainkey.customer.example.com");
	cr_assert_str_eq(p->records[4].value, "v=DKIM1; p=AAAA");
	cr_assert_eq(p->records[5].kind, RECORD_MX);
	policy_free(p);
	diags_free(d);
}

/* Each alias joins the sets that hold its target, and only those. */
Test(records, aliases_join_the_target_sets)
{
	struct diags *d = diags_new();
	struct policy *p = compile_with(vendor, d, NULL, 0, NULL);
	cr_assert_not_null(p);
	const struct ir_set *web = policy_find_set(p, "web"), *tracking = policy_find_set(p, "tracking");
	const struct ir_name *lp = find_name(web, "lp.customer.example.com");
	cr_assert_not_null(lp);
	cr_assert_eq(lp->alias, &p->records[0]);
	cr_assert_eq(lp->loc.line, 5);
	cr_assert_not_null(find_name(web, "go.customer.example.com"));
	cr_assert_null(find_name(web, "pages.customer.example.com"));
	cr_assert_not_null(find_name(tracking, "pages.customer.example.com"));
	cr_assert_null(find_name(tracking, "lp.customer.example.com"));
	for (size_t i = 1; i < web->n_names; i++)	/* still sorted for the backends */
		cr_assert(strcmp(web->names[i - 1].name, web->names[i].name) <= 0);
	policy_free(p);
	diags_free(d);
}

Test(records, unset_parameters_warn_with_the_example)
{
	struct diags *d = diags_new();
	struct policy *p = compile_with(vendor, d, NULL, 0, NULL);
	cr_assert_not_null(p);
	cr_assert_eq(policy_unset_params(p), 2);
	cr_assert(has_diag(d, SEV_WARNING, 1, "parameter 'tracking' (the tracking domain) is not set"));
	cr_assert(has_diag(d, SEV_WARNING, 1, "'trk.vendor.example.net'"));
	cr_assert_str_eq(p->params[1].example, "acct0");
	cr_assert(!p->params[1].supplied);
	policy_free(p);
	diags_free(d);
}

static int read_local(const char *path, char **text, size_t *len)
{
	const char *body = NULL;
	if (!strcmp(path, "dir/local.rules"))
		body = "# local values\ndefine tracking = trk9.vendor.example.net\ndefine account = \"acct9\"\n";
	else if (!strcmp(path, "dir/bad.rules"))
		body = "define tracking = x.example.net\nset s { a.example.com }\ndefine nosuch = y\n";
	if (!body) {
		errno = ENOENT;
		return -1;
	}
	*text = strdup(body);
	*len = strlen(body);
	return 0;
}

static struct policy *compile_in_dir(const char *text, struct diags *d)
{
	struct compile_request req = { .file = "dir/t.rules", .text = text, .len = strlen(text),
				       .read_include = read_local };
	return policy_compile(&req, d);
}

Test(records, include_supplies_parameters)
{
	char *text;
	cr_assert(asprintf(&text, "include \"local.rules\"\ninclude \"absent.rules\" optional\n%s", vendor) > 0);
	struct diags *d = diags_new();
	struct policy *p = compile_in_dir(text, d);
	cr_assert_not_null(p);
	cr_assert_eq(policy_unset_params(p), 0);
	cr_assert_str_eq(p->records[0].target, "acct9.web.vendor.example.net");
	cr_assert_str_eq(p->params[0].value, "trk9.vendor.example.net");
	policy_free(p);
	diags_free(d);
	free(text);
}

Test(records, include_errors)
{
	char *text;
	cr_assert(asprintf(&text, "include \"bad.rules\"\ninclude \"absent.rules\"\n%s", vendor) > 0);
	struct diags *d = diags_new();
	struct policy *p = compile_in_dir(text, d);
	cr_assert_null(p);
	cr_assert(has_diag(d, SEV_ERROR, 2, "cannot read included file dir/absent.rules"));
	cr_assert(has_diag(d, SEV_ERROR, 2, "only 'define' statements"));	/* bad.rules:2 */
	cr_assert(has_diag(d, SEV_ERROR, 3, "'nosuch' is not a parameter or define of dir/t.rules"));
	diags_free(d);
	free(text);
}

Test(records, bad_records_name_their_line)
{
	const char *text = "set s { a.example.com }\n"
			   "record cname *.x.example.com to a.example.com\n"
			   "record cname b.example.com to @nosuch\n"
			   "record spf c.example.com include $nodefine\n"
			   "record txt d.example.com\n"
			   "record cname e.example.com a.example.com\n"
			   "record mx bad..example.com\n"
			   "allow out to @s\n";
	struct diags *d = diags_new();
	struct policy *p = compile_with(text, d, NULL, 0, NULL);
	cr_assert_null(p);
	cr_assert(has_diag(d, SEV_ERROR, 2, "cannot be a wildcard"));
	cr_assert(has_diag(d, SEV_ERROR, 3, "undefined set 'nosuch'"));
	cr_assert(has_diag(d, SEV_ERROR, 4, "undefined define '$nodefine'"));
	cr_assert(has_diag(d, SEV_ERROR, 5, "expected a record type"));
	cr_assert(has_diag(d, SEV_ERROR, 6, "expected 'to'"));
	cr_assert(has_diag(d, SEV_ERROR, 7, "invalid name"));
	diags_free(d);
}

Test(records, alias_of_a_target_in_no_set_warns)
{
	const char *text = "set s { a.example.com }\nrecord cname b.example.com to c.example.net\nallow out to @s\n";
	struct diags *d = diags_new();
	struct policy *p = compile_with(text, d, NULL, 0, NULL);
	cr_assert_not_null(p);
	cr_assert(has_diag(d, SEV_WARNING, 2, "no set holds the CNAME target 'c.example.net'"));
	cr_assert_eq(policy_find_set(p, "s")->n_names, 1);
	policy_free(p);
	diags_free(d);
}

/* pinhole fmt writes the new statements back so that they read the same again. */
Test(records, fmt_fixed_point)
{
	struct diags *d = diags_new();
	struct ast_file *a = NULL, *b = NULL;
	char *once = NULL, *twice = NULL;
	size_t n1 = 0, n2 = 0;
	cr_assert_eq(ast_parse("t.rules", vendor, strlen(vendor), d, &a), 0);
	FILE *f = open_memstream(&once, &n1);
	ast_format(a, f);
	fclose(f);
	cr_assert(strstr(once, "record cname lp.customer.example.com to $account.web.vendor.example.net\n"));
	cr_assert(strstr(once, "param tracking \"the tracking domain\" example trk.vendor.example.net\n"));
	cr_assert_eq(ast_parse("t.rules", once, n1, d, &b), 0);
	f = open_memstream(&twice, &n2);
	ast_format(b, f);
	fclose(f);
	cr_assert_str_eq(once, twice);
	cr_assert_eq(diags_errors(d), 0);
	ast_free(a);
	ast_free(b);
	free(once);
	free(twice);
	diags_free(d);
}
