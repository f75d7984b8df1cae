"""The configuration of a tokenmarket run: import every name from here (``from market.config import MarketConfig,
config_from``).

Three modules, one job each: :mod:`market.config.schema` (the classes and fields: units, ranges, defaults,
sources; strict types), :mod:`market.config.walk` (the one walker of the schema: what a dotted path names, every
field, every value) and :mod:`market.config.loading` (scenario files, overrides and their one value parser,
validation and its one-line errors).
"""

from market.config.loading import (MAX_SCENARIO_BYTES, apply_overrides, build_config, config_from, format_error,
                                   list_scenarios, load_scenario, parse_overrides, parse_value, scenario_source,
                                   shipped_scenarios)
from market.config.schema import (MOVES, VERTICALS, CapitalConfig, ConfigError, CustomersConfig, F, FinanceConfig,
                                  ForcedMove, GpuMarketConfig, LabConfig, LearningConfig, MarketConfig,
                                  OpenWeightsConfig, OutcomesConfig, PlanConfig, PolicyConfig, PricingConfig,
                                  ProvidersConfig, SegmentConfig, TierConfig, WorldConfig, WrappersConfig)
from market.config.walk import (FieldSpec, Slot, field_meta, leaf_values, resolve, schema_fields, schema_names,
                                split_key)

__all__ = [
    # schema
    "MOVES", "VERTICALS", "CapitalConfig", "ConfigError", "CustomersConfig", "F", "FinanceConfig", "ForcedMove",
    "GpuMarketConfig", "LabConfig", "LearningConfig", "MarketConfig", "OpenWeightsConfig", "OutcomesConfig",
    "PlanConfig", "PolicyConfig", "PricingConfig", "ProvidersConfig", "SegmentConfig", "TierConfig", "WorldConfig",
    "WrappersConfig",
    # walk
    "FieldSpec", "Slot", "field_meta", "leaf_values", "resolve", "schema_fields", "schema_names", "split_key",
    # loading
    "MAX_SCENARIO_BYTES", "apply_overrides", "build_config", "config_from", "format_error", "list_scenarios",
    "load_scenario", "parse_overrides", "parse_value", "scenario_source", "shipped_scenarios",
]
