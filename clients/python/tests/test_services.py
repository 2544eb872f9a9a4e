"""Every service the server offers, through the generated stubs, against a real `assay serve`."""
from __future__ import annotations

import json
import re

import pytest

import assay
from assay import billing_pb2, catalog_pb2, echo_pb2, health_pb2, keys_pb2, reflection_pb2, run_pb2
from assay.rpc import NotFound
from assay.v1 import services


def test_every_served_method_has_a_stub(client: assay.Client) -> None:
    served = client.reflection.list_services(reflection_pb2.ListServicesRequest())
    paths = {m.path for s in served.services for m in s.methods}
    stubbed = set(re.findall(r"'(/assay\.v1\.[A-Za-z]+/[A-Za-z]+)'", open(services.__file__).read()))
    assert {"/assay.v1.Catalog/Ingest", "/assay.v1.Run/Create", "/assay.v1.Worker/Serve"} <= paths
    assert paths <= stubbed, f"methods without a stub: {sorted(paths - stubbed)}"


def test_health(client: assay.Client) -> None:
    assert client.health.check(health_pb2.HealthCheckRequest()).status == health_pb2.HealthCheckResponse.SERVING
    assert client.health.check(health_pb2.HealthCheckRequest(service="assay.v1.Worker")).status == \
        health_pb2.HealthCheckResponse.SERVING
    with pytest.raises(NotFound):
        client.health.check(health_pb2.HealthCheckRequest(service="assay.v1.Nope"))
    watch = client.health.watch(health_pb2.HealthCheckRequest())
    assert next(watch).status == health_pb2.HealthCheckResponse.SERVING
    watch.cancel()


def test_echo_every_call_kind(client: assay.Client) -> None:
    assert client.echo.unary(echo_pb2.EchoRequest(text="hi", payload=b"\x00\x01")).payload == b"\x00\x01"
    assert [r.index for r in client.echo.server_stream(echo_pb2.EchoRequest(text="s", repeat=5))] == [0, 1, 2, 3, 4]
    summed = client.echo.client_stream(echo_pb2.EchoRequest(text=str(i)) for i in range(10))
    assert (summed.text, summed.index) == ("0123456789", 10)
    call = client.echo.bidirectional()
    for word in ["a", "b", "c"]:
        call.send(echo_pb2.EchoRequest(text=word))
        assert call.read() == echo_pb2.EchoResponse(text=word, index="abc".index(word))
    call.done_writing()
    assert call.read() is None


def test_large_messages_respect_flow_control(client: assay.Client) -> None:
    # 24 MiB each way through 1 MiB stream windows: both sides must grant credit as they read.
    payload = bytes(range(256)) * 4096 * 3  # 3 MiB
    summed = client.echo.client_stream(echo_pb2.EchoRequest(text="p", payload=payload) for _ in range(8))
    assert summed.index == 8
    got = list(client.echo.server_stream(echo_pb2.EchoRequest(payload=payload, repeat=8)))
    assert len(got) == 8 and all(r.payload == payload for r in got)
    call = client.echo.bidirectional()
    for i in range(8):
        call.send(echo_pb2.EchoRequest(payload=payload, text=str(i)))
        assert call.read() == echo_pb2.EchoResponse(payload=payload, text=str(i), index=i)
    call.done_writing()
    assert call.read() is None


def test_keys(client: assay.Client, server) -> None:  # type: ignore[no-untyped-def]
    me = client.keys.who_am_i(keys_pb2.WhoAmIRequest())
    assert me.role == keys_pb2.ADMIN
    made = client.keys.create(keys_pb2.CreateKeyRequest(name="py-member", role=keys_pb2.MEMBER))
    assert made.key and made.info.role == keys_pb2.MEMBER
    assert made.info.id in {k.id for k in client.keys.list(keys_pb2.ListKeysRequest()).keys}
    with assay.Client(server.addr, api_key=made.key) as member:
        assert member.keys.who_am_i(keys_pb2.WhoAmIRequest()).organization_id == me.organization_id
    client.keys.revoke(keys_pb2.RevokeKeyRequest(id=made.info.id))
    with assay.Client(server.addr, api_key=made.key) as revoked:
        with pytest.raises(assay.rpc.Unauthenticated):
            revoked.keys.who_am_i(keys_pb2.WhoAmIRequest())


def test_catalog(client: assay.Client) -> None:
    ds = client.catalog.create_dataset(catalog_pb2.CreateDatasetRequest(name="py-catalog"))
    assert client.catalog.get_dataset(catalog_pb2.GetDatasetRequest(id=ds.id)).name == "py-catalog"
    assert ds.id in {d.id for d in client.catalog.list_datasets(catalog_pb2.ListDatasetsRequest()).datasets}
    rows = [{"global_key": f"cat-{i}", "media_type": catalog_pb2.TEXT, "text": f"row {i}",
             "metadata": {"parity": "even" if i % 2 == 0 else "odd"}} for i in range(25)]
    summary = client.ingest(ds.id, rows, batch_rows=10)
    assert (summary.rows, summary.batches, summary.created, summary.errors) == (25, 3, 25, [])
    again = client.ingest(ds.id, [catalog_pb2.DataRow(global_key="cat-0", media_type=catalog_pb2.TEXT, text="changed"),
                                  catalog_pb2.DataRow(global_key="", media_type=catalog_pb2.TEXT)])
    assert again.updated == 1 and len(again.errors) == 1 and again.errors[0].index == 1
    # Dicts and DataRow messages mixed in one batch keep their order: the error points at the bad row.
    mixed = client.ingest(ds.id, [
        catalog_pb2.DataRow(global_key="mix-0", media_type=catalog_pb2.TEXT, text="a"),
        {"global_key": "mix-bad", "text": "no media type"},
        catalog_pb2.DataRow(global_key="mix-2", media_type=catalog_pb2.TEXT, text="c"),
        {"global_key": "mix-3", "media_type": catalog_pb2.TEXT, "text": "d"}])
    assert [(e.index, e.global_key, e.code) for e in mixed.errors] == [(1, "mix-bad", "unknown_media_type")]
    assert mixed.created == 3
    client.catalog.delete_data_rows(catalog_pb2.DeleteDataRowsRequest(ids=[
        client.catalog.get_data_row(catalog_pb2.GetDataRowRequest(global_key=f"mix-{i}")).id for i in (0, 2, 3)]))
    # Rows near the 1 MiB row limit: 10 of them pass the 4 MiB frame limit, so the batch is split.
    big = client.ingest(ds.id, ({"global_key": f"big-{i}", "media_type": catalog_pb2.IMAGE,
                                 "content": bytes([i]) * 900_000} for i in range(10)))
    assert (big.rows, big.created, big.errors, big.batches) == (10, 10, [], 4)
    assert client.catalog.get_data_row(catalog_pb2.GetDataRowRequest(global_key="big-7")).content == bytes([7]) * 900_000
    client.catalog.delete_data_rows(catalog_pb2.DeleteDataRowsRequest(ids=[
        client.catalog.get_data_row(catalog_pb2.GetDataRowRequest(global_key=f"big-{i}")).id for i in range(10)]))
    row = client.catalog.get_data_row(catalog_pb2.GetDataRowRequest(global_key="cat-0"))
    assert row.text == "changed"
    page = client.catalog.list_data_rows(catalog_pb2.ListDataRowsRequest(dataset_id=ds.id, page_size=100,
                                                                         metadata_filter={"parity": "odd"}))
    assert len(page.rows) == 12
    onto = client.catalog.create_ontology(catalog_pb2.CreateOntologyRequest(name="py-onto", features=[
        catalog_pb2.Feature(name="caption", kind=catalog_pb2.FREE_TEXT)]))
    assert client.catalog.get_ontology(catalog_pb2.GetOntologyRequest(id=onto.id)).features[0].name == "caption"
    assert onto.id in {o.id for o in client.catalog.list_ontologies(catalog_pb2.ListOntologiesRequest()).ontologies}
    labels = client.catalog.import_labels()
    labels.send(catalog_pb2.LabelBatch(ontology_id=onto.id, labels=[catalog_pb2.Label(
        global_key="cat-1", feature_id=onto.features[0].id, value=catalog_pb2.LabelValue(free_text="ground truth"))]))
    labels.done_writing()
    acks = list(labels)
    assert acks[0].imported == 1 and not acks[0].errors
    exported = list(client.catalog.export(catalog_pb2.ExportRequest(dataset_id=ds.id, include_labels=True)))
    assert len(exported) == 25
    assert [lb.value.free_text for e in exported if e.row.global_key == "cat-1" for lb in e.labels] == ["ground truth"]
    deleted = client.catalog.delete_data_rows(catalog_pb2.DeleteDataRowsRequest(ids=[row.id]))
    assert deleted.deleted == 1
    with pytest.raises(NotFound):
        client.catalog.get_data_row(catalog_pb2.GetDataRowRequest(id=row.id))
    client.catalog.delete_dataset(catalog_pb2.DeleteDatasetRequest(id=ds.id))
    with pytest.raises(NotFound):
        client.catalog.get_dataset(catalog_pb2.GetDatasetRequest(id=ds.id))


def test_billing(client: assay.Client) -> None:
    account = client.billing.get_account(billing_pb2.GetAccountRequest())
    assert account.plan == billing_pb2.PLAN_ENTERPRISE and account.addon_enabled
    assert client.billing.get_terms(billing_pb2.GetTermsRequest()).version
    client.billing.get_usage(billing_pb2.GetUsageRequest())
    client.billing.list_charges(billing_pb2.ListChargesRequest())
    client.billing.list_invoices(billing_pb2.ListInvoicesRequest())
    with pytest.raises(NotFound):
        client.billing.estimate(billing_pb2.EstimateRequest(model_id="no-such-model", row_count=10))


def test_run_service_basics(client: assay.Client) -> None:
    cards = client.run.list_models(run_pb2.ListModelsRequest()).models
    assert all(c.id and c.version for c in cards)
    client.run.list(run_pb2.ListRunsRequest())
    with pytest.raises(NotFound):
        client.run.get(run_pb2.GetRunRequest(id="run_missing"))
    with pytest.raises(NotFound) as info:
        client.run.create(run_pb2.CreateRunRequest(model_id="no-such-model", ontology_id="x",
                                                   rows=run_pb2.RowSelection(dataset_id="y")))
    assert "no-such-model" in info.value.message


def test_reflection_counts_calls(client: assay.Client) -> None:
    client.echo.unary(echo_pb2.EchoRequest(text="count me"))
    stats = client.reflection.method_stats(reflection_pb2.MethodStatsRequest())
    unary = next(m for m in stats.methods if m.path == "/assay.v1.Echo/Unary")
    assert unary.calls >= 1 and unary.codes["OK"] >= 1
    assert json.dumps(dict(unary.codes))
