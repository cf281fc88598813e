"""The Go schema parser of scripts/derive_replacement_rules.py, on fixture snippets."""

from __future__ import annotations

from types import ModuleType

import pytest

from tests.mlstack.diff_data.scripts import load_script


@pytest.fixture(scope="module")
def derive() -> ModuleType:
    return load_script("derive_replacement_rules.py")


SDK_V2 = """
package widget

// ResourceWidget is a fixture.
func ResourceWidget() *schema.Resource {
	return &schema.Resource{
	CustomizeDiff: customdiff.ForceNewIfChange("size", func(_ context.Context, o, n, _ a) bool {
			return n.(int) < o.(int)
		}),
		Schema: map[string]*schema.Schema{
			"name": {
				Type:     schema.TypeString,
				Required: true,
				ForceNew: true, // comment with a brace {
			},
			"description": {
				Type:     schema.TypeString,
				Optional: true,
			},
			"size": {
				Type:     schema.TypeInt,
				Optional: true,
			},
			"production_variants": {
				Type:     schema.TypeList,
				Required: true,
				Elem: &schema.Resource{
					Schema: map[string]*schema.Schema{
						"instance_type": {
							Type:     schema.TypeString,
							Optional: true,
							ForceNew: true,
						},
						"weight": {
							Type:     schema.TypeFloat,
							Optional: true,
						},
					},
				},
			},
			"primary_container": {
				Type:     schema.TypeList,
				MaxItems: 1,
				Optional: true,
				Elem:     containerResource(),
			},
			names.AttrTags: tftags.TagsSchemaForceNew(),
		},
	}
}

func containerResource() *schema.Resource {
	return &schema.Resource{
		Schema: map[string]*schema.Schema{
			"image": {
				Type:     schema.TypeString,
				Required: true,
				ForceNew: true,
			},
			"environment": {
				Type: schema.TypeMap,
				Elem: &schema.Schema{Type: schema.TypeString},
			},
		},
	}
}
"""

FRAMEWORK = """
		Attributes: map[string]schema.Attribute{
			names.AttrID: framework.IDAttribute(),
			"cluster_name": schema.StringAttribute{
				Required: true,
				PlanModifiers: []planmodifier.String{
					stringplanmodifier.RequiresReplace(),
				},
			},
			"description": schema.StringAttribute{
				Optional: true,
			},
			"kms_key": schema.StringAttribute{
				Optional: true,
				PlanModifiers: []planmodifier.String{
					stringplanmodifier.RequiresReplaceIfConfigured(),
				},
			},
		},
		Blocks: map[string]schema.Block{
			"rule": schema.ListNestedBlock{
				NestedObject: schema.NestedBlockObject{
					Attributes: map[string]schema.Attribute{
						"prefix": schema.StringAttribute{
							Optional: true,
							PlanModifiers: []planmodifier.String{
								stringplanmodifier.RequiresReplace(),
							},
						},
						"days": schema.Int64Attribute{Optional: true},
					},
				},
			},
		},
"""


def paths(rules: list[list[str]]) -> set[str]:
    return {".".join(p) for p in rules}


def test_sdkv2_force_new_top_level_and_nested(derive: ModuleType) -> None:
    pkg = derive.GoPackage()
    pkg.add("widget.go", SDK_V2)
    rules = derive.parse_sdk_resource(pkg.funcs["ResourceWidget"], pkg)
    assert paths(rules.force_new) == {
        "name",
        "production_variants[*].instance_type",
        "primary_container.image",
        "tags",
    }
    assert paths(rules.conditional) == {"size"}
    assert rules.unresolved == []


def test_framework_requires_replace(derive: ModuleType) -> None:
    rules = derive.parse_framework_schema(FRAMEWORK)
    assert paths(rules.force_new) == {"cluster_name", "kms_key", "rule[*].prefix"}


def test_snake_to_pulumi_path(derive: ModuleType) -> None:
    notes: list[str] = []
    token = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
    path = derive.to_pulumi_path(token, ["production_variants[*]", "instance_type"], notes)
    assert path == "productionVariants[*].instanceType"
    assert derive.to_pulumi_path("aws:sagemaker/model:Model", ["container[*]", "image"], notes) == (
        "containers[*].image"
    )
    assert notes == []


def test_cfn_pointer_to_pulumi(derive: ModuleType) -> None:
    assert derive.cfn_path_to_pulumi("/properties/EndpointName") == "endpointName"
    assert derive.cfn_path_to_pulumi("/properties/Tags/*/Key") == "tags[*].key"


def test_kubernetes_table_evaluation(derive: ModuleType) -> None:
    diff_go = """
var forceNew = _groups{
	"apps": _versions{
		"v1": _kinds{"Deployment": deployment},
	},
	"core": core,
}

var core = _versions{
	"v1": _kinds{
		"Service": properties{
			".spec.clusterIP",
		},
	},
}

var deployment = append(
	properties{
		".spec.selector",
	},
	labelSelectorForceNewProperties(".spec.selector")...,
)

func metadataForceNewProperties(prefix string) properties {
	return properties{
		prefix + ".name",
		prefix + ".namespace",
	}
}

func labelSelectorForceNewProperties(prefix string) properties {
	return properties{
		prefix + ".matchLabels",
	}
}
"""
    table = derive.kubernetes_force_new(diff_go)
    assert table[("apps", "v1", "Deployment")] == [
        "metadata.name",
        "metadata.namespace",
        "spec.selector",
        "spec.selector.matchLabels",
    ]
    assert table[("core", "v1", "Service")] == [
        "metadata.name",
        "metadata.namespace",
        "spec.clusterIP",
    ]
    assert table[("*", "*", "*")] == ["metadata.name", "metadata.namespace"]
