from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

CHARGE_KIND_CATALOG: ChargeKind
CHARGE_KIND_INFERENCE: ChargeKind
CHARGE_KIND_MODEL: ChargeKind
CHARGE_KIND_REVIEW: ChargeKind
CHARGE_KIND_UNSPECIFIED: ChargeKind
DESCRIPTOR: _descriptor.FileDescriptor
INVOICE_FORMAT_CSV: InvoiceFormat
INVOICE_FORMAT_JSON: InvoiceFormat
INVOICE_FORMAT_UNSPECIFIED: InvoiceFormat
PLAN_EDUCATIONAL: Plan
PLAN_ENTERPRISE: Plan
PLAN_FREE: Plan
PLAN_PRO: Plan
PLAN_STARTER: Plan
PLAN_UNSPECIFIED: Plan
USAGE_GROUPING_BY_DATASET: UsageGrouping
USAGE_GROUPING_BY_DAY: UsageGrouping
USAGE_GROUPING_BY_KIND: UsageGrouping
USAGE_GROUPING_BY_MODEL: UsageGrouping
USAGE_GROUPING_UNSPECIFIED: UsageGrouping

class Account(_message.Message):
    __slots__ = ["addon_enabled", "budget_microdollars", "current_terms_version", "dataset_budgets", "organization_id", "payment_method", "plan", "prices", "run_blockers", "server_administrator", "terms_accepted_at_micros", "terms_version_accepted"]
    ADDON_ENABLED_FIELD_NUMBER: _ClassVar[int]
    BUDGET_MICRODOLLARS_FIELD_NUMBER: _ClassVar[int]
    CURRENT_TERMS_VERSION_FIELD_NUMBER: _ClassVar[int]
    DATASET_BUDGETS_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    PRICES_FIELD_NUMBER: _ClassVar[int]
    RUN_BLOCKERS_FIELD_NUMBER: _ClassVar[int]
    SERVER_ADMINISTRATOR_FIELD_NUMBER: _ClassVar[int]
    TERMS_ACCEPTED_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    TERMS_VERSION_ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    addon_enabled: bool
    budget_microdollars: int
    current_terms_version: str
    dataset_budgets: _containers.RepeatedCompositeFieldContainer[DatasetBudget]
    organization_id: str
    payment_method: PaymentMethod
    plan: Plan
    prices: Prices
    run_blockers: _containers.RepeatedScalarFieldContainer[str]
    server_administrator: bool
    terms_accepted_at_micros: int
    terms_version_accepted: str
    def __init__(self, organization_id: _Optional[str] = ..., plan: _Optional[_Union[Plan, str]] = ..., addon_enabled: bool = ..., terms_version_accepted: _Optional[str] = ..., terms_accepted_at_micros: _Optional[int] = ..., current_terms_version: _Optional[str] = ..., payment_method: _Optional[_Union[PaymentMethod, _Mapping]] = ..., budget_microdollars: _Optional[int] = ..., dataset_budgets: _Optional[_Iterable[_Union[DatasetBudget, _Mapping]]] = ..., prices: _Optional[_Union[Prices, _Mapping]] = ..., run_blockers: _Optional[_Iterable[str]] = ..., server_administrator: bool = ...) -> None: ...

class BillingEstimate(_message.Message):
    __slots__ = ["assumptions", "expires_at_micros", "id", "inference_microdollars", "model_units", "run_blockers", "total_microdollars", "unit_microdollars"]
    ASSUMPTIONS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    INFERENCE_MICRODOLLARS_FIELD_NUMBER: _ClassVar[int]
    MODEL_UNITS_FIELD_NUMBER: _ClassVar[int]
    RUN_BLOCKERS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_MICRODOLLARS_FIELD_NUMBER: _ClassVar[int]
    UNIT_MICRODOLLARS_FIELD_NUMBER: _ClassVar[int]
    assumptions: _containers.RepeatedScalarFieldContainer[str]
    expires_at_micros: int
    id: str
    inference_microdollars: int
    model_units: int
    run_blockers: _containers.RepeatedScalarFieldContainer[str]
    total_microdollars: int
    unit_microdollars: int
    def __init__(self, id: _Optional[str] = ..., model_units: _Optional[int] = ..., inference_microdollars: _Optional[int] = ..., unit_microdollars: _Optional[int] = ..., total_microdollars: _Optional[int] = ..., assumptions: _Optional[_Iterable[str]] = ..., expires_at_micros: _Optional[int] = ..., run_blockers: _Optional[_Iterable[str]] = ...) -> None: ...

class Charge(_message.Message):
    __slots__ = ["at_micros", "cycle", "dataset_ids", "key", "kind", "microdollars", "model_id", "price_book_version", "quantity", "run_id", "unit_microdollars", "units"]
    AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    CYCLE_FIELD_NUMBER: _ClassVar[int]
    DATASET_IDS_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    MICRODOLLARS_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    PRICE_BOOK_VERSION_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    UNIT_MICRODOLLARS_FIELD_NUMBER: _ClassVar[int]
    at_micros: int
    cycle: str
    dataset_ids: str
    key: str
    kind: ChargeKind
    microdollars: int
    model_id: str
    price_book_version: str
    quantity: int
    run_id: str
    unit_microdollars: int
    units: int
    def __init__(self, key: _Optional[str] = ..., kind: _Optional[_Union[ChargeKind, str]] = ..., model_id: _Optional[str] = ..., dataset_ids: _Optional[str] = ..., run_id: _Optional[str] = ..., quantity: _Optional[int] = ..., units: _Optional[int] = ..., unit_microdollars: _Optional[int] = ..., microdollars: _Optional[int] = ..., cycle: _Optional[str] = ..., at_micros: _Optional[int] = ..., price_book_version: _Optional[str] = ...) -> None: ...

class CloseCycleRequest(_message.Message):
    __slots__ = ["cycle", "organization_id"]
    CYCLE_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    cycle: str
    organization_id: str
    def __init__(self, organization_id: _Optional[str] = ..., cycle: _Optional[str] = ...) -> None: ...

class DatasetBudget(_message.Message):
    __slots__ = ["dataset_id", "limit_microdollars"]
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_MICRODOLLARS_FIELD_NUMBER: _ClassVar[int]
    dataset_id: str
    limit_microdollars: int
    def __init__(self, dataset_id: _Optional[str] = ..., limit_microdollars: _Optional[int] = ...) -> None: ...

class EnableAddonRequest(_message.Message):
    __slots__ = ["accept_terms_version", "disable", "organization_id"]
    ACCEPT_TERMS_VERSION_FIELD_NUMBER: _ClassVar[int]
    DISABLE_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    accept_terms_version: str
    disable: bool
    organization_id: str
    def __init__(self, organization_id: _Optional[str] = ..., accept_terms_version: _Optional[str] = ..., disable: bool = ...) -> None: ...

class EstimateRequest(_message.Message):
    __slots__ = ["dataset_id", "image_count", "model_id", "row_count", "tokens"]
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    IMAGE_COUNT_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    ROW_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    dataset_id: str
    image_count: int
    model_id: str
    row_count: int
    tokens: int
    def __init__(self, model_id: _Optional[str] = ..., row_count: _Optional[int] = ..., image_count: _Optional[int] = ..., dataset_id: _Optional[str] = ..., tokens: _Optional[int] = ...) -> None: ...

class ExportInvoiceRequest(_message.Message):
    __slots__ = ["cycle", "format", "organization_id"]
    CYCLE_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    cycle: str
    format: InvoiceFormat
    organization_id: str
    def __init__(self, organization_id: _Optional[str] = ..., cycle: _Optional[str] = ..., format: _Optional[_Union[InvoiceFormat, str]] = ...) -> None: ...

class ExportInvoiceResponse(_message.Message):
    __slots__ = ["content", "file_name"]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    content: bytes
    file_name: str
    def __init__(self, file_name: _Optional[str] = ..., content: _Optional[bytes] = ...) -> None: ...

class GetAccountRequest(_message.Message):
    __slots__ = ["organization_id"]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    def __init__(self, organization_id: _Optional[str] = ...) -> None: ...

class GetTermsRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class GetUsageRequest(_message.Message):
    __slots__ = ["from_micros", "group_by", "to_micros"]
    FROM_MICROS_FIELD_NUMBER: _ClassVar[int]
    GROUP_BY_FIELD_NUMBER: _ClassVar[int]
    TO_MICROS_FIELD_NUMBER: _ClassVar[int]
    from_micros: int
    group_by: UsageGrouping
    to_micros: int
    def __init__(self, from_micros: _Optional[int] = ..., to_micros: _Optional[int] = ..., group_by: _Optional[_Union[UsageGrouping, str]] = ...) -> None: ...

class Invoice(_message.Message):
    __slots__ = ["closed_at_micros", "cycle", "id", "inference_microdollars", "lines", "organization_id", "period_end_micros", "period_start_micros", "plan", "price_book_version", "total", "total_microdollars", "total_units", "units_microdollars"]
    CLOSED_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    CYCLE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    INFERENCE_MICRODOLLARS_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_MICROS_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_MICROS_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    PRICE_BOOK_VERSION_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    TOTAL_MICRODOLLARS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_UNITS_FIELD_NUMBER: _ClassVar[int]
    UNITS_MICRODOLLARS_FIELD_NUMBER: _ClassVar[int]
    closed_at_micros: int
    cycle: str
    id: str
    inference_microdollars: int
    lines: _containers.RepeatedCompositeFieldContainer[InvoiceLine]
    organization_id: str
    period_end_micros: int
    period_start_micros: int
    plan: Plan
    price_book_version: str
    total: str
    total_microdollars: int
    total_units: int
    units_microdollars: int
    def __init__(self, id: _Optional[str] = ..., organization_id: _Optional[str] = ..., cycle: _Optional[str] = ..., period_start_micros: _Optional[int] = ..., period_end_micros: _Optional[int] = ..., closed_at_micros: _Optional[int] = ..., plan: _Optional[_Union[Plan, str]] = ..., price_book_version: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[InvoiceLine, _Mapping]]] = ..., total_units: _Optional[int] = ..., units_microdollars: _Optional[int] = ..., inference_microdollars: _Optional[int] = ..., total_microdollars: _Optional[int] = ..., total: _Optional[str] = ...) -> None: ...

class InvoiceLine(_message.Message):
    __slots__ = ["charged_at_once", "dataset_ids", "kind", "microdollars", "model_id", "quantity", "unit_microdollars", "units"]
    CHARGED_AT_ONCE_FIELD_NUMBER: _ClassVar[int]
    DATASET_IDS_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    MICRODOLLARS_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    UNIT_MICRODOLLARS_FIELD_NUMBER: _ClassVar[int]
    charged_at_once: bool
    dataset_ids: str
    kind: ChargeKind
    microdollars: int
    model_id: str
    quantity: int
    unit_microdollars: int
    units: int
    def __init__(self, kind: _Optional[_Union[ChargeKind, str]] = ..., model_id: _Optional[str] = ..., dataset_ids: _Optional[str] = ..., quantity: _Optional[int] = ..., units: _Optional[int] = ..., unit_microdollars: _Optional[int] = ..., microdollars: _Optional[int] = ..., charged_at_once: bool = ...) -> None: ...

class ListChargesRequest(_message.Message):
    __slots__ = ["cycle"]
    CYCLE_FIELD_NUMBER: _ClassVar[int]
    cycle: str
    def __init__(self, cycle: _Optional[str] = ...) -> None: ...

class ListChargesResponse(_message.Message):
    __slots__ = ["charges"]
    CHARGES_FIELD_NUMBER: _ClassVar[int]
    charges: _containers.RepeatedCompositeFieldContainer[Charge]
    def __init__(self, charges: _Optional[_Iterable[_Union[Charge, _Mapping]]] = ...) -> None: ...

class ListInvoicesRequest(_message.Message):
    __slots__ = ["organization_id"]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    def __init__(self, organization_id: _Optional[str] = ...) -> None: ...

class ListInvoicesResponse(_message.Message):
    __slots__ = ["invoices"]
    INVOICES_FIELD_NUMBER: _ClassVar[int]
    invoices: _containers.RepeatedCompositeFieldContainer[Invoice]
    def __init__(self, invoices: _Optional[_Iterable[_Union[Invoice, _Mapping]]] = ...) -> None: ...

class PaymentMethod(_message.Message):
    __slots__ = ["display_hint", "reference"]
    DISPLAY_HINT_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    display_hint: str
    reference: str
    def __init__(self, reference: _Optional[str] = ..., display_hint: _Optional[str] = ...) -> None: ...

class Prices(_message.Message):
    __slots__ = ["catalog_rows_per_unit", "model_price_overrides", "model_rows_per_unit", "price_book_version", "review_rows_per_unit", "unit_microdollars"]
    class ModelPriceOverridesEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    CATALOG_ROWS_PER_UNIT_FIELD_NUMBER: _ClassVar[int]
    MODEL_PRICE_OVERRIDES_FIELD_NUMBER: _ClassVar[int]
    MODEL_ROWS_PER_UNIT_FIELD_NUMBER: _ClassVar[int]
    PRICE_BOOK_VERSION_FIELD_NUMBER: _ClassVar[int]
    REVIEW_ROWS_PER_UNIT_FIELD_NUMBER: _ClassVar[int]
    UNIT_MICRODOLLARS_FIELD_NUMBER: _ClassVar[int]
    catalog_rows_per_unit: int
    model_price_overrides: _containers.ScalarMap[str, int]
    model_rows_per_unit: int
    price_book_version: str
    review_rows_per_unit: int
    unit_microdollars: int
    def __init__(self, price_book_version: _Optional[str] = ..., unit_microdollars: _Optional[int] = ..., catalog_rows_per_unit: _Optional[int] = ..., model_rows_per_unit: _Optional[int] = ..., review_rows_per_unit: _Optional[int] = ..., model_price_overrides: _Optional[_Mapping[str, int]] = ...) -> None: ...

class SetBudgetRequest(_message.Message):
    __slots__ = ["dataset_id", "limit_microdollars"]
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_MICRODOLLARS_FIELD_NUMBER: _ClassVar[int]
    dataset_id: str
    limit_microdollars: int
    def __init__(self, dataset_id: _Optional[str] = ..., limit_microdollars: _Optional[int] = ...) -> None: ...

class SetPaymentMethodRequest(_message.Message):
    __slots__ = ["payment_method"]
    PAYMENT_METHOD_FIELD_NUMBER: _ClassVar[int]
    payment_method: PaymentMethod
    def __init__(self, payment_method: _Optional[_Union[PaymentMethod, _Mapping]] = ...) -> None: ...

class SetPlanRequest(_message.Message):
    __slots__ = ["organization_id", "plan"]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    plan: Plan
    def __init__(self, organization_id: _Optional[str] = ..., plan: _Optional[_Union[Plan, str]] = ...) -> None: ...

class SetPriceOverridesRequest(_message.Message):
    __slots__ = ["catalog_rows_per_unit", "clear", "model_prices", "model_rows_per_unit", "organization_id", "review_rows_per_unit", "unit_microdollars"]
    class ModelPricesEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    CATALOG_ROWS_PER_UNIT_FIELD_NUMBER: _ClassVar[int]
    CLEAR_FIELD_NUMBER: _ClassVar[int]
    MODEL_PRICES_FIELD_NUMBER: _ClassVar[int]
    MODEL_ROWS_PER_UNIT_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    REVIEW_ROWS_PER_UNIT_FIELD_NUMBER: _ClassVar[int]
    UNIT_MICRODOLLARS_FIELD_NUMBER: _ClassVar[int]
    catalog_rows_per_unit: int
    clear: bool
    model_prices: _containers.ScalarMap[str, int]
    model_rows_per_unit: int
    organization_id: str
    review_rows_per_unit: int
    unit_microdollars: int
    def __init__(self, organization_id: _Optional[str] = ..., unit_microdollars: _Optional[int] = ..., catalog_rows_per_unit: _Optional[int] = ..., model_rows_per_unit: _Optional[int] = ..., review_rows_per_unit: _Optional[int] = ..., model_prices: _Optional[_Mapping[str, int]] = ..., clear: bool = ...) -> None: ...

class Terms(_message.Message):
    __slots__ = ["text", "version"]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    text: str
    version: str
    def __init__(self, version: _Optional[str] = ..., text: _Optional[str] = ...) -> None: ...

class UsageReport(_message.Message):
    __slots__ = ["catalog_units_accrued", "rows", "total_microdollars", "total_units"]
    CATALOG_UNITS_ACCRUED_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_MICRODOLLARS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_UNITS_FIELD_NUMBER: _ClassVar[int]
    catalog_units_accrued: int
    rows: _containers.RepeatedCompositeFieldContainer[UsageRow]
    total_microdollars: int
    total_units: int
    def __init__(self, rows: _Optional[_Iterable[_Union[UsageRow, _Mapping]]] = ..., total_units: _Optional[int] = ..., total_microdollars: _Optional[int] = ..., catalog_units_accrued: _Optional[int] = ...) -> None: ...

class UsageRow(_message.Message):
    __slots__ = ["group", "kind", "microdollars", "quantity", "units"]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    MICRODOLLARS_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    group: str
    kind: ChargeKind
    microdollars: int
    quantity: int
    units: int
    def __init__(self, group: _Optional[str] = ..., kind: _Optional[_Union[ChargeKind, str]] = ..., quantity: _Optional[int] = ..., units: _Optional[int] = ..., microdollars: _Optional[int] = ...) -> None: ...

class Plan(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class ChargeKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class UsageGrouping(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class InvoiceFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
