"""Bare baselines for the benchmark: the same SQL as the product through Django's connection, no DRF.

Mounted under /bench/ only when CRM_BENCH=1 (never in a normal deployment), unauthenticated on purpose:
the ratio of the real endpoints to these shows what the framework layers (auth, permissions, DRF,
serializers, history) cost.
"""

import json

from django.db import connection, transaction
from django.http import HttpResponseBadRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

FMT = "%Y-%m-%d %H:%M:%S"


def _rows(cursor) -> list[dict]:
    tz = timezone.get_current_timezone()
    result = []
    for attribute_id, customer_id, name, value, created, modified in cursor.fetchall():
        if isinstance(created, str):  # SQLite returns text when the connection is used raw
            created, modified = timezone.datetime.fromisoformat(created), timezone.datetime.fromisoformat(modified)
        result.append(
            {
                "attribute_id": attribute_id,
                "customer_id": customer_id,
                "attribute_name": name,
                "attribute_value": value,
                "created": created.astimezone(tz).strftime(FMT),
                "last_modified": modified.astimezone(tz).strftime(FMT),
            }
        )
    return result


def attributes_for_customer(request, customer_id: int):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attribute_id, customer_id, attribute_name, attribute_value, created, last_modified "
            "FROM attributes_attribute WHERE customer_id = %s ORDER BY attribute_name",
            [customer_id],
        )
        return JsonResponse(_rows(cursor), safe=False)


@csrf_exempt
def upsert(request):
    try:
        body = json.loads(request.body)
        params = [int(body["customer_id"]), str(body["attribute_name"]), str(body["attribute_value"])]
    except (ValueError, KeyError, TypeError):
        return HttpResponseBadRequest("bad body")
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO attributes_attribute (customer_id, attribute_name, attribute_value, created, last_modified) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (customer_id, attribute_name) DO UPDATE SET "
            "attribute_value = excluded.attribute_value, last_modified = excluded.last_modified "
            "RETURNING attribute_id, customer_id, attribute_name, attribute_value, created, last_modified",
            [*params, now, now],
        )
        return JsonResponse(_rows(cursor)[0])


def find_customers(request):
    name, value = request.GET.get("attribute_name", ""), request.GET.get("attribute_value", "")
    limit = min(int(request.GET.get("limit", "1000")), 1000)
    match = "SELECT customer_id FROM attributes_attribute WHERE attribute_name = %s AND attribute_value = %s"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM customers_customer WHERE customer_id IN ({match})", [name, value])
        total = cursor.fetchone()[0]
        cursor.execute(
            "SELECT customer_id, customer_name, customer_account_type, customer_status, email, phone, notes, "
            f"created, last_modified FROM customers_customer WHERE customer_id IN ({match}) "
            "ORDER BY customer_id LIMIT %s",
            [name, value, limit],
        )
        columns = [c[0] for c in cursor.description]
        tz = timezone.get_current_timezone()
        rows = []
        for row in cursor.fetchall():
            item = dict(zip(columns, row, strict=True))
            for key in ("created", "last_modified"):
                stamp = item[key]
                if isinstance(stamp, str):
                    stamp = timezone.datetime.fromisoformat(stamp)
                item[key] = stamp.astimezone(tz).strftime(FMT)
            rows.append(item)
    response = JsonResponse(rows, safe=False)
    response["X-Total-Count"] = str(total)
    return response
