"""Billing's writes and the run service's estimate, cancel and export, against the server
operator's organisation (the only one `assay serve` makes: enterprise, server administrator).
The billing test moves it to a self-service plan and back, so it restores the account in a
`finally` for the tests after it."""
from __future__ import annotations

import json
import time
import uuid
from typing import Iterator

import pytest

import assay
from assay.rpc import FailedPrecondition, InvalidArgument, NotFound, ResourceExhausted
from assay.v1 import billing_pb2, catalog_pb2, run_pb2
from conftest import run_to_end, wait_for


def parity_rows(client: assay.Client, tag: str, n: int) -> tuple[str, str, str]:
    """A dataset of n rows "row I of TAG" and a parity ontology: (dataset, ontology, feature)."""
    ds = client.catalog.create_dataset(catalog_pb2.CreateDatasetRequest(name=tag))
    client.ingest(ds.id, ({"global_key": f"{tag}-{i}", "media_type": catalog_pb2.TEXT, "text": f"row {i} of {tag}"}
                          for i in range(n)))
    onto = client.catalog.create_ontology(catalog_pb2.CreateOntologyRequest(name=tag, features=[
        catalog_pb2.Feature(name="parity", kind=catalog_pb2.RADIO, options=[
            catalog_pb2.FeatureOption(id="even", value="even"), catalog_pb2.FeatureOption(id="odd", value="odd")])]))
    return ds.id, onto.id, onto.features[0].id


def parity_run(dataset: str, ontology: str, feature: str, **parameters: int) -> run_pb2.CreateRunRequest:
    return run_pb2.CreateRunRequest(
        model_id="test-parity", ontology_id=ontology, rows=run_pb2.RowSelection(dataset_id=dataset),
        mapping=[run_pb2.ClassMapping(model_class="parity", feature_id=feature)],
        parameters={k: run_pb2.ParameterValue(integer=v) for k, v in parameters.items()})


@pytest.fixture()
def restore_account(client: assay.Client) -> Iterator[None]:
    yield
    client.billing.set_price_overrides(billing_pb2.SetPriceOverridesRequest(clear=True))
    client.billing.set_budget(billing_pb2.SetBudgetRequest(limit_microdollars=0))
    client.billing.set_plan(billing_pb2.SetPlanRequest(plan=billing_pb2.PLAN_ENTERPRISE))
    account = client.billing.enable_addon(billing_pb2.EnableAddonRequest())
    assert account.plan == billing_pb2.PLAN_ENTERPRISE and account.addon_enabled and not account.run_blockers


def test_billing_writes(client: assay.Client, models_worker, restore_account) -> None:  # type: ignore[no-untyped-def]
    tag = f"bill{uuid.uuid4().hex[:6]}"
    ds, onto, feature = parity_rows(client, tag, 10)
    terms = client.billing.get_terms(billing_pb2.GetTermsRequest())

    with pytest.raises(InvalidArgument):  # a card number is never stored
        client.billing.set_payment_method(billing_pb2.SetPaymentMethodRequest(
            payment_method=billing_pb2.PaymentMethod(reference="4242424242424242", display_hint="visa")))
    account = client.billing.set_payment_method(billing_pb2.SetPaymentMethodRequest(
        payment_method=billing_pb2.PaymentMethod(reference="pm_test_1", display_hint="visa ending 4242")))
    assert account.payment_method.display_hint == "visa ending 4242"

    # A self-service plan: moving there turns the add-on off, and runs say why they are refused.
    account = client.billing.set_plan(billing_pb2.SetPlanRequest(plan=billing_pb2.PLAN_PRO))
    assert account.plan == billing_pb2.PLAN_PRO and not account.addon_enabled
    assert "enable_addon" in account.run_blockers
    with pytest.raises(FailedPrecondition) as refused:
        client.run.create(parity_run(ds, onto, feature))
    assert refused.value.message.startswith("enable_addon")
    with pytest.raises(FailedPrecondition):
        client.billing.enable_addon(billing_pb2.EnableAddonRequest(accept_terms_version="1999-01"))
    account = client.billing.enable_addon(billing_pb2.EnableAddonRequest(accept_terms_version=terms.version))
    assert account.addon_enabled and account.terms_version_accepted == terms.version and not account.run_blockers

    # Self-service runs confirm the estimate they were shown.
    with pytest.raises(FailedPrecondition) as unconfirmed:
        client.run.create(parity_run(ds, onto, feature))
    assert unconfirmed.value.message.startswith("confirm_estimate")
    estimate = client.run.estimate(run_pb2.EstimateRunRequest(model_id="test-parity",
                                                              rows=run_pb2.RowSelection(dataset_id=ds)))
    assert estimate.id and (estimate.rows, estimate.model_units) == (10, 2)  # 1 unit per 5 rows
    request = parity_run(ds, onto, feature)
    request.estimate_id = estimate.id
    run = client.run.create(request)
    done = run_to_end(client, run.id)
    assert done.state == run_pb2.RUN_STATE_COMPLETED
    # Usage out: the worker reported 125 tokens a row; priced at $0.002 per 1k tokens.
    assert done.progress.tokens == 10 * 125
    # Billing settles a run just after it completes: wait for both charges.
    by_kind = {}
    for _ in range(500):
        fees = [c for c in client.billing.list_charges(billing_pb2.ListChargesRequest()).charges if c.run_id == run.id]
        by_kind = {c.kind: c for c in fees}
        if len(by_kind) == 2:
            break
        time.sleep(0.01)
    assert by_kind[billing_pb2.CHARGE_KIND_INFERENCE].microdollars == 1250 * 2000 // 1000
    assert by_kind[billing_pb2.CHARGE_KIND_MODEL].units == 2

    # A budget below what a run costs refuses it.
    account = client.billing.set_budget(billing_pb2.SetBudgetRequest(limit_microdollars=1))
    assert account.budget_microdollars == 1
    estimate = client.run.estimate(run_pb2.EstimateRunRequest(model_id="test-parity",
                                                              rows=run_pb2.RowSelection(dataset_id=ds)))
    request = parity_run(ds, onto, feature, wrong_every=3)
    request.estimate_id = estimate.id
    with pytest.raises(ResourceExhausted) as over:
        client.run.create(request)
    assert over.value.message.startswith("budget_exceeded")
    client.billing.set_budget(billing_pb2.SetBudgetRequest(limit_microdollars=0))

    # Price overrides (server administrators): the model's price and the unit price.
    account = client.billing.set_price_overrides(billing_pb2.SetPriceOverridesRequest(
        model_prices={"test-parity": 5000}, unit_microdollars=7000))
    assert account.prices.model_price_overrides["test-parity"] == 5000 and account.prices.unit_microdollars == 7000
    quote = client.billing.estimate(billing_pb2.EstimateRequest(model_id="test-parity", row_count=10, tokens=2000))
    assert (quote.inference_microdollars, quote.model_units, quote.unit_microdollars) == (10_000, 2, 7000)
    assert quote.total_microdollars == 10_000 + 2 * 7000
    with pytest.raises(InvalidArgument):
        client.billing.set_price_overrides(billing_pb2.SetPriceOverridesRequest(unit_microdollars=-5))


def test_cycles_and_invoices(client: assay.Client) -> None:
    usage = client.billing.get_usage(billing_pb2.GetUsageRequest(group_by=billing_pb2.USAGE_GROUPING_BY_KIND))
    assert usage.total_microdollars == sum(r.microdollars for r in usage.rows)
    # The current cycle has not ended: it cannot close yet.
    current = client.billing.list_charges(billing_pb2.ListChargesRequest()).charges[0].cycle
    with pytest.raises(FailedPrecondition):
        client.billing.close_cycle(billing_pb2.CloseCycleRequest(cycle=current))
    with pytest.raises(InvalidArgument):
        client.billing.close_cycle(billing_pb2.CloseCycleRequest(cycle="March"))
    # The last cycle that ended (the month before the organisation existed): an empty invoice,
    # the same one however often it is closed.
    year, month = map(int, current.split("-"))
    previous = f"{year - (month == 1)}-{(month - 2) % 12 + 1:02d}"
    invoice = client.billing.close_cycle(billing_pb2.CloseCycleRequest())
    assert (invoice.cycle, invoice.total, invoice.total_microdollars, list(invoice.lines)) == (previous, "0.00", 0, [])
    assert invoice.plan == billing_pb2.PLAN_ENTERPRISE and invoice.period_end_micros > invoice.period_start_micros
    assert client.billing.close_cycle(billing_pb2.CloseCycleRequest(cycle=previous)).id == invoice.id
    assert invoice.id in {i.id for i in client.billing.list_invoices(billing_pb2.ListInvoicesRequest()).invoices}
    as_json = client.billing.export_invoice(billing_pb2.ExportInvoiceRequest(cycle=previous))
    assert json.loads(as_json.content)["id"] == invoice.id and as_json.file_name.endswith(".json")
    as_csv = client.billing.export_invoice(billing_pb2.ExportInvoiceRequest(
        cycle=previous, format=billing_pb2.INVOICE_FORMAT_CSV)).content.decode()
    header, total = as_csv.splitlines()
    assert header.startswith("invoice,cycle,kind,") and total.split(",")[2] == "total" and total.split(",")[-2] == "0.00"
    with pytest.raises(NotFound):
        client.billing.export_invoice(billing_pb2.ExportInvoiceRequest(cycle="1999-01"))


def test_run_cancel_and_export(client: assay.Client, models_worker) -> None:  # type: ignore[no-untyped-def]
    tag = f"runs{uuid.uuid4().hex[:6]}"
    ds, onto, feature = parity_rows(client, tag, 48)
    slow = client.run.create(parity_run(ds, onto, feature, delay_ms=400))
    wait_for(lambda: client.run.get(run_pb2.GetRunRequest(id=slow.id)).progress.done > 0, 30, "the run to start")
    cancelled = client.run.cancel(run_pb2.CancelRunRequest(id=slow.id))
    assert cancelled.id == slow.id
    end = run_to_end(client, slow.id)
    assert end.state == run_pb2.RUN_STATE_CANCELLED and 0 < end.progress.done < 48
    with pytest.raises(NotFound):
        client.run.cancel(run_pb2.CancelRunRequest(id="run_missing"))

    run = client.run.create(parity_run(ds, onto, feature))
    assert run_to_end(client, run.id).state == run_pb2.RUN_STATE_COMPLETED
    assert run.id in {r.id for r in client.run.list(run_pb2.ListRunsRequest()).runs}
    ndjson = b"".join(c.data for c in client.run.export(run_pb2.ExportRunRequest(
        id=run.id, format=run_pb2.EXPORT_FORMAT_NDJSON))).decode()
    lines = [json.loads(line) for line in ndjson.splitlines()]
    assert len(lines) == 48
    text = json.dumps(lines[0])
    assert f"{tag}-" in text and ("even" in text or "odd" in text)
    # Cancelling a run that ended does not change it.
    assert client.run.cancel(run_pb2.CancelRunRequest(id=run.id)).state == run_pb2.RUN_STATE_COMPLETED
