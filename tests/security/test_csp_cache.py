"""The CSP header is built once per policy (crm_project.middleware.StaticPolicyCSPMiddleware), and is exactly what
django-csp builds: for a plain page, for a view with its own policy (the API docs), and after the settings change."""

import pytest
from csp.constants import NONCE
from csp.middleware import CSPMiddleware
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from crm_project.middleware import StaticPolicyCSPMiddleware

pytestmark = pytest.mark.django_db


def both(response_factory, path="/customers/"):
    """The header django-csp's own middleware sets, and ours (twice: the second from the cache)."""
    request = RequestFactory().get(path)
    expected = CSPMiddleware(lambda r: response_factory()).process_response(request, response_factory())
    ours = StaticPolicyCSPMiddleware(lambda r: response_factory())
    first = ours.process_response(RequestFactory().get(path), response_factory())
    second = ours.process_response(RequestFactory().get(path), response_factory())
    return (
        expected.get("Content-Security-Policy"),
        first.get("Content-Security-Policy"),
        second.get("Content-Security-Policy"),
    )


def test_the_cached_header_is_django_csps():
    expected, first, second = both(HttpResponse)
    assert expected and "default-src 'self'" in expected
    assert first == second == expected


def test_a_view_with_its_own_policy_gets_it_not_the_cached_one():
    def with_update():
        response = HttpResponse()
        response._csp_update = {"style-src": ["'unsafe-inline'"]}
        return response

    both(HttpResponse)  # the cache holds the site's policy
    expected, first, second = both(with_update)
    assert "'unsafe-inline'" in expected
    assert first == second == expected


def test_a_changed_policy_is_used_at_once():
    both(HttpResponse)
    policy = {"DIRECTIVES": {"default-src": ["'none'"]}}
    with override_settings(CONTENT_SECURITY_POLICY=policy):
        expected, first, second = both(HttpResponse)
    assert expected == first == second == "default-src 'none'"
    assert both(HttpResponse)[1] != "default-src 'none'"  # and the site's again afterwards


def test_a_nonce_request_goes_through_django_csp():
    """A policy with a nonce (none of ours has one today) gets each request's own nonce, never a cached one."""
    both(HttpResponse)
    policy = {"DIRECTIVES": {"default-src": ["'self'"], "script-src": ["'self'", NONCE]}}
    ours = StaticPolicyCSPMiddleware(lambda r: HttpResponse())
    with override_settings(CONTENT_SECURITY_POLICY=policy):
        headers = []
        for _ in range(2):
            request = RequestFactory().get("/")
            ours.process_request(request)
            nonce = str(request.csp_nonce)  # a template asked for a nonce
            headers.append(ours.process_response(request, HttpResponse())["Content-Security-Policy"])
            assert f"'nonce-{nonce}'" in headers[-1]
    assert headers[0] != headers[1]
