import os

# Paper exhibits: one parameterised papermill notebook per table/figure. The notebooks only
# load results of the other rules and draw or tabulate them (code in crlmflow.report.exhibits and
# crlmflow.report.plots); executed copies are kept under OUT/notebooks/.


rule exhibit_flowchart:
    input:
        notebook="notebooks/figure1_flowchart.ipynb",
        flow=f"{OUT}/data/development/flow.json",
        external_flow=[f"{OUT}/data/external/flow.json"] if SPLIT == "external" else [],
        split=f"{OUT}/data/split_summary.json",
        runner=RUN_NOTEBOOK,
        code=notebook_code("notebooks/figure1_flowchart.ipynb"),
    output:
        notebook=f"{OUT}/notebooks/figure1_flowchart.ipynb",
        pdf=f"{OUT}/figures/figure1_flowchart.pdf",
        png=in_report(
            f"{OUT}/figures/figure1_flowchart.png",
            "figure1_flowchart",
            PAPER,
            paper_exhibit(1, "Figure 1. Patient flow"),
        ),
    log:
        f"{OUT}/logs/exhibit_flowchart.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1500),
        runtime=runtime_for(15),
    params:
        nb=lambda wc, input, output: nb_params(
            flow=input.flow,
            external_flow=input.external_flow[0] if input.external_flow else "",
            split_summary=input.split,
            fig_base=output.pdf[: -len(".pdf")],
            # a generic study (another disease) is not "patients with CRLM"
            screened_label=(
                "Patients screened"
                if config["data"]["source"] == "file"
                and config["data"]["file"]["format"] == "generic"
                else "Patients with CRLM screened"
            ),
        ),
    script:
        "../../scripts/run_notebook.py"


OUTPUTS.add(rules.exhibit_flowchart.output)


rule exhibit_table1:
    input:
        notebook="notebooks/table1.ipynb",
        # multiple imputation: all included patients, the incomplete ones too
        cohort=(
            MI_COHORT["incomplete"]
            if IMPUTATION.enabled
            else f"{OUT}/data/analysis_cohort.csv"
        ),
        runner=RUN_NOTEBOOK,
        code=notebook_code("notebooks/table1.ipynb"),
    output:
        notebook=f"{OUT}/notebooks/table1.ipynb",
        csv=f"{OUT}/tables/table1.csv",
        html=in_report(
            f"{OUT}/tables/table1.html",
            "table1",
            PAPER,
            paper_exhibit(2, "Table 1. Baseline characteristics"),
        ),
        md=f"{OUT}/tables/table1.md",
        docx=f"{OUT}/tables/table1.docx",
    log:
        f"{OUT}/logs/exhibit_table1.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1500),
        runtime=runtime_for(15),
    params:
        nb=lambda wc, input, output: nb_params(
            cohort=input.cohort,
            sets=SETS,
            set_names=SET_NAMES,
            candidates=config["candidates"],
            endpoints=config["endpoints"],
            out_base=output.csv[: -len(".csv")],
            **({"imputation": True} if IMPUTATION.enabled else {}),
        ),
    script:
        "../../scripts/run_notebook.py"


OUTPUTS.add(rules.exhibit_table1.output)


rule exhibit_table2:
    input:
        **MI_NOTE_INPUT,
        notebook="notebooks/table2.ipynb",
        univariable=expand(f"{OUT}/models/{{ep}}/univariable.csv", ep=ENDPOINTS),
        multivariable=expand(f"{OUT}/models/{{ep}}/multivariable.csv", ep=ENDPOINTS),
        ph_tests=expand(f"{OUT}/models/{{ep}}/ph_test.csv", ep=ENDPOINTS),
        inclusion=(
            expand(f"{OUT}/validation/{{ep}}/selection_frequency.csv", ep=ENDPOINTS)
            if VALIDATION.optimism_computed
            else []
        ),
        runner=RUN_NOTEBOOK,
        code=notebook_code("notebooks/table2.ipynb"),
    output:
        notebook=f"{OUT}/notebooks/table2.ipynb",
        csv=f"{OUT}/tables/table2.csv",
        html=in_report(
            f"{OUT}/tables/table2.html",
            "table2",
            PAPER,
            paper_exhibit(3, "Table 2. Univariable and multivariable Cox regression"),
        ),
        md=f"{OUT}/tables/table2.md",
        docx=f"{OUT}/tables/table2.docx",
    log:
        f"{OUT}/logs/exhibit_table2.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1500),
        runtime=runtime_for(15),
    params:
        nb=lambda wc, input, output: nb_params(
            univariable=ep_files(f"{OUT}/models/{{ep}}/univariable.csv"),
            multivariable=ep_files(f"{OUT}/models/{{ep}}/multivariable.csv"),
            endpoint_labels={ep: ep_short(ep) for ep in ENDPOINTS},
            screen_p=SELECTION.screen_p,
            ph_tests=ep_files(f"{OUT}/models/{{ep}}/ph_test.csv"),
            candidates=config["candidates"],
            inclusion=(
                ep_files(f"{OUT}/validation/{{ep}}/selection_frequency.csv")
                if VALIDATION.optimism_computed
                else {}
            ),
            out_base=output.csv[: -len(".csv")],
            **mi_note_param(input),
        ),
    script:
        "../../scripts/run_notebook.py"


OUTPUTS.add(rules.exhibit_table2.output)


rule exhibit_table3:
    input:
        notebook="notebooks/table3.ipynb",
        rates=f"{OUT}/survival/km_rates.csv",
        runner=RUN_NOTEBOOK,
        code=notebook_code("notebooks/table3.ipynb"),
    output:
        notebook=f"{OUT}/notebooks/table3.ipynb",
        csv=f"{OUT}/tables/table3.csv",
        html=in_report(
            f"{OUT}/tables/table3.html",
            "table3",
            PAPER,
            table3_section(),
        ),
        md=f"{OUT}/tables/table3.md",
        docx=f"{OUT}/tables/table3.docx",
    log:
        f"{OUT}/logs/exhibit_table3.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1500),
        runtime=runtime_for(15),
    params:
        nb=lambda wc, input, output: nb_params(
            km_rates=input.rates,
            endpoints=ENDPOINTS,
            sets=SETS,
            set_names=SET_NAMES,
            horizons=config["horizons"],
            conf_type=config["km"]["conf_type"],
            out_base=output.csv[: -len(".csv")],
        ),
    script:
        "../../scripts/run_notebook.py"


OUTPUTS.add(rules.exhibit_table3.output)


rule exhibit_figure_model:
    input:
        notebook="notebooks/figure_model.ipynb",
        multivariable=f"{OUT}/models/{{endpoint}}/multivariable.csv",
        # a spline's forest row is its Q3-vs-Q1 HR, from the training quartiles
        cohort=f"{OUT}/data/analysis_cohort.csv",
        fit=f"{OUT}/models/{{endpoint}}/fit.json",
        nomogram=f"{OUT}/models/{{endpoint}}/nomogram.json",
        roc=f"{OUT}/validation/{{endpoint}}/roc_curves.csv",
        dca=f"{OUT}/validation/{{endpoint}}/decision_curves.csv",
        performance=f"{OUT}/validation/{{endpoint}}/performance.csv",
        runner=RUN_NOTEBOOK,
        code=notebook_code("notebooks/figure_model.ipynb"),
    output:
        notebook=f"{OUT}/notebooks/figure_model_{{endpoint}}.ipynb",
        pdf=f"{OUT}/figures/figure_model_{{endpoint}}.pdf",
        png=in_report(
            f"{OUT}/figures/figure_model_{{endpoint}}.png",
            "figure_model",
            PAPER,
            figure_model_section,
        ),
        panels=shown_one(
            f"{OUT}/figures/figure_model_{{endpoint}}",
            [
                "_A_forest.pdf",
                "_A_forest.png",
                "_B_nomogram.pdf",
                "_B_nomogram.png",
                "_CF_roc_dca.pdf",
                "_CF_roc_dca.png",
            ],
            "_CF_roc_dca.png",
            "figure_model",
            PAPER,
            figure_model_section,
        ),
        nia_pdf=f"{OUT}/figures/figure_model_{{endpoint}}_nia.pdf",
        nia_png=in_report(
            f"{OUT}/figures/figure_model_{{endpoint}}_nia.png",
            "figure_model_nia",
            BEYOND,
            endpoint_section("Net interventions avoided"),
        ),
    log:
        f"{OUT}/logs/exhibit_figure_model_{{endpoint}}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1500),
        runtime=runtime_for(15),
    params:
        nb=lambda wc, input, output: nb_params(
            endpoint=wc.endpoint,
            endpoint_label=config["endpoints"][wc.endpoint]["label"],
            figure_number=FIG_NO[wc.endpoint],
            multivariable=input.multivariable,
            cohort=input.cohort,
            fit=input.fit,
            nomogram=input.nomogram,
            roc_curves=input.roc,
            decision_curves=input.dca,
            performance=input.performance,
            sets=SETS,
            set_names=SET_NAMES,
            horizons=config["horizons"],
            candidates=config["candidates"],
            fig_base=output.pdf[: -len(".pdf")],
            # multiple imputation: panel A says the model is the complete-case one
            **({"complete_case": True} if IMPUTATION.enabled else {}),
        ),
    script:
        "../../scripts/run_notebook.py"


OUTPUTS.add(rules.exhibit_figure_model.output, endpoint=ENDPOINTS)


rule exhibit_figure4:
    input:
        notebook="notebooks/figure4_km.ipynb",
        curves=f"{OUT}/survival/km_curves.csv",
        at_risk=f"{OUT}/survival/km_at_risk.csv",
        tests=f"{OUT}/survival/km_tests.csv",
        pairwise=f"{OUT}/survival/km_pairwise.csv",
        cutpoints=expand(f"{OUT}/models/{{ep}}/cutpoint.json", ep=ENDPOINTS),
        runner=RUN_NOTEBOOK,
        code=notebook_code("notebooks/figure4_km.ipynb"),
    output:
        notebook=f"{OUT}/notebooks/figure4_km.ipynb",
        pdf=f"{OUT}/figures/figure4_km.pdf",
        png=in_report(
            f"{OUT}/figures/figure4_km.png",
            "figure4_km",
            PAPER,
            figure4_section(),
        ),
    log:
        f"{OUT}/logs/exhibit_figure4.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1500),
        runtime=runtime_for(15),
    params:
        nb=lambda wc, input, output: nb_params(
            km_curves=input.curves,
            km_at_risk=input.at_risk,
            km_tests=input.tests,
            km_pairwise=input.pairwise,
            cutpoints=ep_files(f"{OUT}/models/{{ep}}/cutpoint.json"),
            sets=SETS,
            endpoint_labels={ep: config["endpoints"][ep]["label"] for ep in ENDPOINTS},
            km_group=config["km"]["group"],
            fig_base=output.pdf[: -len(".pdf")],
        ),
    script:
        "../../scripts/run_notebook.py"


OUTPUTS.add(rules.exhibit_figure4.output)


rule exhibit_calibration:
    input:
        notebook="notebooks/supplementary_calibration.ipynb",
        calibration=f"{OUT}/validation/{{endpoint}}/calibration.csv",
        smooth=f"{OUT}/validation/{{endpoint}}/calibration_smooth.csv",
        histogram=f"{OUT}/validation/{{endpoint}}/prediction_histogram.csv",
        runner=RUN_NOTEBOOK,
        code=notebook_code("notebooks/supplementary_calibration.ipynb"),
    output:
        notebook=f"{OUT}/notebooks/supplementary_calibration_{{endpoint}}.ipynb",
        pdf=f"{OUT}/figures/suppl_calibration_{{endpoint}}.pdf",
        png=in_report(
            f"{OUT}/figures/suppl_calibration_{{endpoint}}.png",
            "suppl_calibration",
            SUPPLEMENT,
            calibration_section,
        ),
    log:
        f"{OUT}/logs/exhibit_calibration_{{endpoint}}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1500),
        runtime=runtime_for(15),
    params:
        nb=lambda wc, input, output: nb_params(
            endpoint=wc.endpoint,
            endpoint_label=config["endpoints"][wc.endpoint]["label"],
            calibration=input.calibration,
            calibration_smooth=input.smooth,
            prediction_histogram=input.histogram,
            sets=SETS,
            set_names=SET_NAMES,
            horizons=config["horizons"],
            min_events_at_horizon=VALIDATION.min_events_at_horizon,
            min_at_risk_at_horizon=VALIDATION.min_at_risk_at_horizon,
            fig_base=output.pdf[: -len(".pdf")],
        ),
    script:
        "../../scripts/run_notebook.py"


OUTPUTS.add(rules.exhibit_calibration.output, endpoint=ENDPOINTS)


rule exhibit_partial_effects:
    input:
        notebook="notebooks/supplementary_partial_effects.ipynb",
        partial_effects=f"{OUT}/models/{{endpoint}}/partial_effects.csv",
        anova=f"{OUT}/models/{{endpoint}}/anova.csv",
        runner=RUN_NOTEBOOK,
        code=notebook_code("notebooks/supplementary_partial_effects.ipynb"),
    output:
        notebook=f"{OUT}/notebooks/supplementary_partial_effects_{{endpoint}}.ipynb",
        pdf=f"{OUT}/figures/suppl_partial_effects_{{endpoint}}.pdf",
        png=in_report(
            f"{OUT}/figures/suppl_partial_effects_{{endpoint}}.png",
            "suppl_partial_effects",
            BEYOND,
            endpoint_section("Partial effects"),
        ),
    log:
        f"{OUT}/logs/exhibit_partial_effects_{{endpoint}}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1500),
        runtime=runtime_for(15),
    params:
        nb=lambda wc, input, output: nb_params(
            endpoint=wc.endpoint,
            endpoint_label=config["endpoints"][wc.endpoint]["label"],
            partial_effects=input.partial_effects,
            anova=input.anova,
            candidates=config["candidates"],
            fig_base=output.pdf[: -len(".pdf")],
        ),
    script:
        "../../scripts/run_notebook.py"


OUTPUTS.add(rules.exhibit_partial_effects.output, endpoint=ENDPOINTS)


rule exhibit_ph:
    input:
        notebook="notebooks/supplementary_ph.ipynb",
        residuals=f"{OUT}/models/{{endpoint}}/ph_residuals.csv",
        ph_test=f"{OUT}/models/{{endpoint}}/ph_test.csv",
        runner=RUN_NOTEBOOK,
        code=notebook_code("notebooks/supplementary_ph.ipynb"),
    output:
        notebook=f"{OUT}/notebooks/supplementary_ph_{{endpoint}}.ipynb",
        pdf=f"{OUT}/figures/suppl_ph_{{endpoint}}.pdf",
        png=in_report(
            f"{OUT}/figures/suppl_ph_{{endpoint}}.png",
            "suppl_ph",
            BEYOND,
            endpoint_section("Proportional hazards"),
        ),
    log:
        f"{OUT}/logs/exhibit_ph_{{endpoint}}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1500),
        runtime=runtime_for(15),
    params:
        nb=lambda wc, input, output: nb_params(
            endpoint=wc.endpoint,
            endpoint_label=config["endpoints"][wc.endpoint]["label"],
            ph_residuals=input.residuals,
            ph_test=input.ph_test,
            candidates=config["candidates"],
            fig_base=output.pdf[: -len(".pdf")],
        ),
    script:
        "../../scripts/run_notebook.py"


OUTPUTS.add(rules.exhibit_ph.output, endpoint=ENDPOINTS)


rule exhibit_external:
    input:
        notebook="notebooks/external_validation.ipynb",
        extrapolation=f"{OUT}/validation/{{endpoint}}/extrapolation.csv",
        updating=f"{OUT}/validation/{{endpoint}}/updating.csv",
        calibration=f"{OUT}/validation/{{endpoint}}/updating_calibration.csv",
        performance=f"{OUT}/validation/{{endpoint}}/performance.csv",
        runner=RUN_NOTEBOOK,
        code=notebook_code("notebooks/external_validation.ipynb"),
    output:
        notebook=f"{OUT}/notebooks/external_validation_{{endpoint}}.ipynb",
        pdf=f"{OUT}/figures/external_calibration_{{endpoint}}.pdf",
        png=in_report(
            f"{OUT}/figures/external_calibration_{{endpoint}}.png",
            "external_validation",
            BEYOND,
            endpoint_section("External validation"),
        ),
        tables=multiext(
            f"{OUT}/tables/external_validation_{{endpoint}}", ".csv", ".md", ".html"
        ),
    log:
        f"{OUT}/logs/exhibit_external_{{endpoint}}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1500),
        runtime=runtime_for(15),
    params:
        nb=lambda wc, input, output: nb_params(
            endpoint=wc.endpoint,
            endpoint_label=config["endpoints"][wc.endpoint]["label"],
            extrapolation=input.extrapolation,
            updating=input.updating,
            calibration=input.calibration,
            performance=input.performance,
            horizons=config["horizons"],
            fig_base=output.pdf[: -len(".pdf")],
            table_base=f"{OUT}/tables/external_validation_{wc.endpoint}",
        ),
    script:
        "../../scripts/run_notebook.py"


if SPLIT == "external":
    OUTPUTS.add(rules.exhibit_external.output, endpoint=ENDPOINTS)


rule exhibit_kras:
    input:
        notebook="notebooks/supplementary_kras.ipynb",
        curves=f"{OUT}/survival/km_curves.csv",
        at_risk=f"{OUT}/survival/km_at_risk.csv",
        tests=f"{OUT}/survival/km_tests.csv",
        runner=RUN_NOTEBOOK,
        code=notebook_code("notebooks/supplementary_kras.ipynb"),
    output:
        notebook=f"{OUT}/notebooks/supplementary_kras.ipynb",
        pdf=f"{OUT}/figures/suppl_kras.pdf",
        png=in_report(
            f"{OUT}/figures/suppl_kras.png",
            "suppl_kras",
            SUPPLEMENT,
            kras_section(),
        ),
    log:
        f"{OUT}/logs/exhibit_kras.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1500),
        runtime=runtime_for(15),
    params:
        nb=lambda wc, input, output: nb_params(
            km_curves=input.curves,
            km_at_risk=input.at_risk,
            km_tests=input.tests,
            endpoint_labels={ep: config["endpoints"][ep]["label"] for ep in ENDPOINTS},
            fig_base=output.pdf[: -len(".pdf")],
        ),
    script:
        "../../scripts/run_notebook.py"


if is_crlm_study():
    OUTPUTS.add(rules.exhibit_kras.output)


rule exhibit_beyond_paper:
    input:
        **MI_NOTE_INPUT,
        notebook="notebooks/beyond_paper.ipynb",
        performance=expand(f"{OUT}/validation/{{ep}}/performance.csv", ep=ENDPOINTS),
        fit=expand(f"{OUT}/models/{{ep}}/fit.json", ep=ENDPOINTS),
        # none when validation.bootstrap_B is 0: the tables then say it was not computed
        bootstrap=OPTIMISM_TABLES,
        runner=RUN_NOTEBOOK,
        code=notebook_code("notebooks/beyond_paper.ipynb"),
    output:
        notebook=f"{OUT}/notebooks/beyond_paper.ipynb",
        stability=shown_one(
            f"{OUT}/tables/selection_stability",
            [".csv", ".html", ".md", ".docx"],
            ".html",
            "selection_stability",
            BEYOND,
            "Selection stability",
        ),
        performance=shown_one(
            f"{OUT}/tables/performance_comparison",
            [".csv", ".html", ".md", ".docx"],
            ".html",
            "performance_comparison",
            BEYOND,
            "Apparent vs optimism-corrected performance",
        ),
    log:
        f"{OUT}/logs/exhibit_beyond_paper.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1500),
        runtime=runtime_for(15),
    params:
        nb=lambda wc, input, output: nb_params(
            endpoints=ENDPOINTS,
            endpoint_labels={ep: ep_short(ep) for ep in ENDPOINTS},
            performance=ep_files(f"{OUT}/validation/{{ep}}/performance.csv"),
            optimism=ep_files(f"{OUT}/validation/{{ep}}/optimism.csv"),
            selection_frequency=ep_files(
                f"{OUT}/validation/{{ep}}/selection_frequency.csv"
            ),
            bootstrap_B=VALIDATION.bootstrap_B,
            fit=ep_files(f"{OUT}/models/{{ep}}/fit.json"),
            candidates=config["candidates"],
            stability_base=f"{OUT}/tables/selection_stability",
            performance_base=f"{OUT}/tables/performance_comparison",
            set_names=SET_NAMES,
            **mi_note_param(input),
        ),
    script:
        "../../scripts/run_notebook.py"


OUTPUTS.add(rules.exhibit_beyond_paper.output)


rule exhibit_sample_size:
    input:
        notebook="notebooks/sample_size.ipynb",
        sample_size=expand(f"{OUT}/models/{{ep}}/sample_size.csv", ep=ENDPOINTS),
        runner=RUN_NOTEBOOK,
        code=notebook_code("notebooks/sample_size.ipynb"),
    output:
        notebook=f"{OUT}/notebooks/sample_size.ipynb",
        tables=shown_one(
            f"{OUT}/tables/sample_size",
            [".csv", ".html", ".md"],
            ".html",
            "sample_size",
            BEYOND,
            "Minimum sample size",
        ),
    log:
        f"{OUT}/logs/exhibit_sample_size.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1500),
        runtime=runtime_for(15),
    params:
        nb=lambda wc, input, output: nb_params(
            endpoints=ENDPOINTS,
            endpoint_labels={ep: ep_short(ep) for ep in ENDPOINTS},
            sample_size=ep_files(f"{OUT}/models/{{ep}}/sample_size.csv"),
            settings=SAMPLE_SIZE.as_dict(),
            out_base=f"{OUT}/tables/sample_size",
        ),
    script:
        "../../scripts/run_notebook.py"


OUTPUTS.add(rules.exhibit_sample_size.output)


# Only with data.missing_predictors: multiple_imputation: the pooled model of every endpoint
# (the single-model exhibits above are then complete-case and point to this table).
rule exhibit_mi_pooled:
    input:
        notebook="notebooks/supplementary_mi.ipynb",
        pooled=expand(f"{OUT}/models/{{ep}}/mi/pooled.csv", ep=ENDPOINTS),
        selection=expand(f"{OUT}/models/{{ep}}/mi/selection.csv", ep=ENDPOINTS),
        performance=expand(f"{OUT}/models/{{ep}}/mi/performance.csv", ep=ENDPOINTS),
        runner=RUN_NOTEBOOK,
        code=notebook_code("notebooks/supplementary_mi.ipynb"),
    output:
        notebook=f"{OUT}/notebooks/supplementary_mi.ipynb",
        tables=shown_one(
            f"{OUT}/tables/mi_pooled_model",
            [".csv", ".html", ".md", ".docx"],
            ".html",
            "mi_pooled_model",
            BEYOND,
            "Multiple imputation: pooled model",
        ),
    log:
        f"{OUT}/logs/exhibit_mi_pooled.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1500),
        runtime=runtime_for(15),
    params:
        nb=lambda wc, input, output: nb_params(
            pooled=ep_files(f"{OUT}/models/{{ep}}/mi/pooled.csv"),
            selection=ep_files(f"{OUT}/models/{{ep}}/mi/selection.csv"),
            performance=ep_files(f"{OUT}/models/{{ep}}/mi/performance.csv"),
            endpoint_labels={ep: ep_short(ep) for ep in ENDPOINTS},
            majority=IMPUTATION.majority,
            candidates=config["candidates"],
            out_base=f"{OUT}/tables/mi_pooled_model",
        ),
    script:
        "../../scripts/run_notebook.py"


if IMPUTATION.enabled:
    OUTPUTS.add(rules.exhibit_mi_pooled.output)


# Only with alternative_models.methods: the paper's model beside each alternative.
rule exhibit_model_comparison:
    input:
        notebook="notebooks/model_comparison.ipynb",
        performance=expand(f"{OUT}/validation/{{ep}}/performance.csv", ep=ENDPOINTS),
        alternatives=expand(
            f"{OUT}/validation/{{ep}}/alternatives_performance.csv", ep=ENDPOINTS
        ),
        models=expand(f"{OUT}/models/{{ep}}/alternatives/models.csv", ep=ENDPOINTS),
        runner=RUN_NOTEBOOK,
        code=notebook_code("notebooks/model_comparison.ipynb"),
    output:
        notebook=f"{OUT}/notebooks/model_comparison.ipynb",
        tables=shown_one(
            f"{OUT}/tables/model_comparison",
            [".csv", ".html", ".md"],
            ".html",
            "model_comparison",
            BEYOND,
            "Alternative models",
        ),
    log:
        f"{OUT}/logs/exhibit_model_comparison.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1500),
        runtime=runtime_for(15),
    params:
        nb=lambda wc, input, output: nb_params(
            endpoints=ENDPOINTS,
            endpoint_labels={ep: ep_short(ep) for ep in ENDPOINTS},
            performance=ep_files(f"{OUT}/validation/{{ep}}/performance.csv"),
            alternatives=ep_files(
                f"{OUT}/validation/{{ep}}/alternatives_performance.csv"
            ),
            models=ep_files(f"{OUT}/models/{{ep}}/alternatives/models.csv"),
            horizons=config["horizons"],
            set_names=SET_NAMES,
            out_base=f"{OUT}/tables/model_comparison",
        ),
    script:
        "../../scripts/run_notebook.py"


if ALTERNATIVES.methods:
    OUTPUTS.add(rules.exhibit_model_comparison.output)


# Only with alternative_models.methods: the paper's model (headline) and each alternative
# (beyond the paper) on the same calibration, ROC and decision-curve panels, per endpoint.
rule exhibit_alternatives_validation:
    input:
        notebook="notebooks/supplementary_alternatives.ipynb",
        calibration=f"{OUT}/validation/{{endpoint}}/calibration.csv",
        roc=f"{OUT}/validation/{{endpoint}}/roc_curves.csv",
        dca=f"{OUT}/validation/{{endpoint}}/decision_curves.csv",
        performance=f"{OUT}/validation/{{endpoint}}/performance.csv",
        alt_calibration=f"{OUT}/validation/{{endpoint}}/alternatives_calibration.csv",
        alt_roc=f"{OUT}/validation/{{endpoint}}/alternatives_roc_curves.csv",
        alt_dca=f"{OUT}/validation/{{endpoint}}/alternatives_decision_curves.csv",
        alt_performance=f"{OUT}/validation/{{endpoint}}/alternatives_performance.csv",
        runner=RUN_NOTEBOOK,
        code=notebook_code("notebooks/supplementary_alternatives.ipynb"),
    output:
        notebook=f"{OUT}/notebooks/supplementary_alternatives_{{endpoint}}.ipynb",
        calibration_pdf=f"{OUT}/figures/suppl_alternatives_{{endpoint}}_calibration.pdf",
        calibration_png=in_report(
            f"{OUT}/figures/suppl_alternatives_{{endpoint}}_calibration.png",
            "suppl_alternatives_calibration",
            BEYOND,
            endpoint_section("Alternative models"),
        ),
        roc_pdf=f"{OUT}/figures/suppl_alternatives_{{endpoint}}_roc.pdf",
        roc_png=in_report(
            f"{OUT}/figures/suppl_alternatives_{{endpoint}}_roc.png",
            "suppl_alternatives_roc",
            BEYOND,
            endpoint_section("Alternative models"),
        ),
        dca_pdf=f"{OUT}/figures/suppl_alternatives_{{endpoint}}_dca.pdf",
        dca_png=in_report(
            f"{OUT}/figures/suppl_alternatives_{{endpoint}}_dca.png",
            "suppl_alternatives_dca",
            BEYOND,
            endpoint_section("Alternative models"),
        ),
    log:
        f"{OUT}/logs/exhibit_alternatives_validation_{{endpoint}}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1500),
        runtime=runtime_for(15),
    params:
        nb=lambda wc, input, output: nb_params(
            endpoint=wc.endpoint,
            endpoint_label=config["endpoints"][wc.endpoint]["label"],
            calibration=input.calibration,
            roc_curves=input.roc,
            decision_curves=input.dca,
            performance=input.performance,
            alternatives_calibration=input.alt_calibration,
            alternatives_roc_curves=input.alt_roc,
            alternatives_decision_curves=input.alt_dca,
            alternatives_performance=input.alt_performance,
            sets=SETS,
            set_names=SET_NAMES,
            horizons=config["horizons"],
            min_events_at_horizon=VALIDATION.min_events_at_horizon,
            min_at_risk_at_horizon=VALIDATION.min_at_risk_at_horizon,
            fig_base=f"{OUT}/figures/suppl_alternatives_{wc.endpoint}",
        ),
    script:
        "../../scripts/run_notebook.py"


if ALTERNATIVES.methods:
    OUTPUTS.add(rules.exhibit_alternatives_validation.output, endpoint=ENDPOINTS)


# The expected ranges are committed (data/, from the target paper_expected_ranges): always
# declared, so the comparison never depends on which other targets happened to run. The
# synthetic truth and the bootstrap frequencies follow from the config alone.
COMPARISON_EXTRA = {
    "expected": "data/paper_expected_ranges.csv",
    "expected_selection": "data/paper_expected_selection.csv",
    "expected_settings": "data/paper_expected_settings.json",
}
if config["data"]["source"] == "synthetic":
    COMPARISON_EXTRA["truth"] = f"{OUT}/data/development/ground_truth.json"
if VALIDATION.optimism_computed:
    for _ep in ENDPOINTS:
        COMPARISON_EXTRA[f"frequency_{_ep}"] = (
            f"{OUT}/validation/{_ep}/selection_frequency.csv"
        )


rule exhibit_paper_comparison:
    input:
        notebook="notebooks/paper_comparison.ipynb",
        targets="data/paper_targets.yaml",
        cohort=f"{OUT}/data/analysis_cohort.csv",
        split=f"{OUT}/data/split_summary.json",
        rates=f"{OUT}/survival/km_rates.csv",
        tests=f"{OUT}/survival/km_tests.csv",
        univariable=expand(f"{OUT}/models/{{ep}}/univariable.csv", ep=ENDPOINTS),
        multivariable=expand(f"{OUT}/models/{{ep}}/multivariable.csv", ep=ENDPOINTS),
        performance=expand(f"{OUT}/validation/{{ep}}/performance.csv", ep=ENDPOINTS),
        cutpoint=expand(f"{OUT}/models/{{ep}}/cutpoint.json", ep=ENDPOINTS),
        # the cached expected ranges and selection frequencies, the synthetic truth and the
        # bootstrap selection frequencies (the last two when the config has them)
        extra=list(COMPARISON_EXTRA.values()),
        runner=RUN_NOTEBOOK,
        code=notebook_code("notebooks/paper_comparison.ipynb"),
    output:
        notebook=f"{OUT}/notebooks/paper_comparison.ipynb",
        tables=shown_one(
            f"{OUT}/tables/paper_comparison",
            [".csv", ".md", ".html"],
            ".html",
            "paper_comparison",
            COMPARISON,
            "Published vs this run",
        ),
    log:
        f"{OUT}/logs/exhibit_paper_comparison.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1500),
        runtime=runtime_for(15),
    params:
        nb=lambda wc, input, output: nb_params(
            targets=input.targets,
            cohort=input.cohort,
            split_summary=input.split,
            km_rates=input.rates,
            km_tests=input.tests,
            endpoints=ENDPOINTS,
            univariable=ep_files(f"{OUT}/models/{{ep}}/univariable.csv"),
            multivariable=ep_files(f"{OUT}/models/{{ep}}/multivariable.csv"),
            performance=ep_files(f"{OUT}/validation/{{ep}}/performance.csv"),
            cutpoint=ep_files(f"{OUT}/models/{{ep}}/cutpoint.json"),
            sets=SETS,
            candidates=config["candidates"],
            endpoint_columns=config["endpoints"],
            out_base=f"{OUT}/tables/paper_comparison",
            expected=COMPARISON_EXTRA["expected"],
            expected_selection=COMPARISON_EXTRA["expected_selection"],
            expected_settings=COMPARISON_EXTRA["expected_settings"],
            # what the cached ranges must have been computed for (simulation.smk)
            procedure=PAPER_PROCEDURE,
            ground_truth=COMPARISON_EXTRA.get("truth", ""),
            selection_frequency={
                ep: f"{OUT}/validation/{ep}/selection_frequency.csv"
                for ep in ENDPOINTS
                if VALIDATION.optimism_computed
            },
        ),
    script:
        "../../scripts/run_notebook.py"


if is_paper_shaped():
    OUTPUTS.add(rules.exhibit_paper_comparison.output)


rule results_text:
    input:
        flow=f"{OUT}/data/development/flow.json",
        split=f"{OUT}/data/split_summary.json",
        rates=f"{OUT}/survival/km_rates.csv",
        fit=expand(f"{OUT}/models/{{ep}}/fit.json", ep=ENDPOINTS),
        multivariable=expand(f"{OUT}/models/{{ep}}/multivariable.csv", ep=ENDPOINTS),
        performance=expand(f"{OUT}/validation/{{ep}}/performance.csv", ep=ENDPOINTS),
        cutpoint=expand(f"{OUT}/models/{{ep}}/cutpoint.json", ep=ENDPOINTS),
        script="scripts/results_text.py",
        code=code_of("scripts/results_text.py"),
    output:
        md=in_report(f"{OUT}/report/results.md", "results_text", RESULTS_TEXT),
        docx=f"{OUT}/report/results.docx",
        tripod_md=in_report(
            f"{OUT}/report/tripod_checklist.md", "tripod_checklist", RESULTS_TEXT
        ),
        tripod_docx=f"{OUT}/report/tripod_checklist.docx",
    log:
        f"{OUT}/logs/results_text.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(800),
        runtime=runtime_for(5),
    params:
        endpoints=config["endpoints"],
        candidates=config["candidates"],
        horizons=config["horizons"],
        # the run's declared outputs (not the files present now), so the checklist does
        # not depend on which jobs happened to finish first
        produced=lambda wc: sorted(
            p[len(OUT) + 1 :] for p in [*OUTPUTS.all(), f"{OUT}/provenance.json"]
        ),
    script:
        "../../scripts/results_text.py"


OUTPUTS.add(rules.results_text.output)
